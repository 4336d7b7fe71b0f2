"""mesh_report: one-sided declarations among the services of the running program."""

from __future__ import annotations

from typing import Any

import pytest

from lattice_pulumi.compile.mesh.report import MeshReport
from lattice_pulumi.components import LatticeService, ServiceRegistry, mesh_report
from lattice_pulumi.errors import CompileError
from tests.builders import service
from tests.components.harness import run_program


def _service(name: str, **resources: Any) -> dict[str, Any]:
    doc = service(resources=resources)
    doc["metadata"] = {"name": name, "namespace": "shop"}
    return doc


def test_reports_one_sided_declarations() -> None:
    found: dict[str, MeshReport] = {}

    def program() -> Any:
        LatticeService("web", _service("web", api={"type": "service"}), allow_default_provider=True)
        api = LatticeService("api", _service("api"), allow_default_provider=True)
        found["report"] = mesh_report()
        return api.urn

    run_program(program)
    report = found["report"]
    assert report.services == ("shop/api", "shop/web")
    assert [(e.caller, e.callee, e.verdict.allowed) for e in report.edges] == [
        ("shop/web", "shop/api", False)
    ]
    assert len(report.findings) == 1
    assert report.findings[0].subject.startswith("shop/")


def test_each_program_run_has_its_own_registry() -> None:
    found: list[tuple[str, ...]] = []

    def program(name: str) -> Any:
        component = LatticeService(name, _service(name), allow_default_provider=True)
        found.append(mesh_report().services)
        return component.urn

    run_program(lambda: program("one"))
    run_program(lambda: program("two"))
    assert found == [("shop/one",), ("shop/two",)]


def test_one_service_in_two_components_is_refused() -> None:
    registry = ServiceRegistry()

    def program() -> Any:
        LatticeService("a", _service("api"), allow_default_provider=True, registry=registry)
        return LatticeService(
            "b", _service("api"), allow_default_provider=True, registry=registry
        ).urn

    with pytest.raises(CompileError, match="service shop/api is already deployed by component 'a'"):
        run_program(program)
