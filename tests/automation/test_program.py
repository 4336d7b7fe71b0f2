"""Inline programs from spec files, run under Pulumi mocks (no engine)."""

from __future__ import annotations

from pathlib import Path

import pytest

from lattice_pulumi.automation.program import (
    PROVIDER_NAME,
    Target,
    build_program,
    component_names,
    load_deployment,
)
from lattice_pulumi.compile.service import compile_service
from lattice_pulumi.components import TYPE_TOKEN
from lattice_pulumi.errors import LatticeError, SpecErrors
from tests.components.harness import run_program
from tests.conftest import EXAMPLES

WEBAPP = [EXAMPLES / "webapp", EXAMPLES / "policies"]


def test_loads_services_and_policies() -> None:
    deployment = load_deployment(WEBAPP)
    assert [s.name for s in deployment.services] == [
        "api",
        "frontend",
        "postgres",
        "redis",
        "worker",
    ]
    assert len(deployment.context.services) == 5


def test_bad_spec_fails_before_the_engine(tmp_path: Path) -> None:
    (tmp_path / "bad.yaml").write_text(
        "apiVersion: lattice.dev/v1alpha1\nkind: LatticeService\nmetadata: {name: x}\nspec: {}\n"
    )
    with pytest.raises(SpecErrors):
        load_deployment([tmp_path])


def test_no_services_found(tmp_path: Path) -> None:
    with pytest.raises(LatticeError, match="no LatticeService found"):
        load_deployment([tmp_path])


@pytest.mark.parametrize(
    ("target", "expected"),
    [
        pytest.param(
            Target(render_to=Path("/tmp/out")),
            {"render_yaml_to_directory": "/tmp/out"},
            id="render to a folder",
        ),
        pytest.param(
            Target(kubeconfig="/k/config", kube_context="kind"),
            {"kubeconfig": "/k/config", "enable_server_side_apply": True, "context": "kind"},
            id="a kubeconfig and context",
        ),
    ],
)
def test_provider_args(target: Target, expected: dict[str, object]) -> None:
    assert target.provider_args() == expected


def test_no_target_is_refused() -> None:
    with pytest.raises(LatticeError, match="never used silently"):
        build_program(load_deployment(WEBAPP), Target())


def test_component_names_qualify_repeated_names() -> None:
    deployment = load_deployment(WEBAPP)
    api = deployment.services[0]
    other = api.model_copy(update={"metadata": api.metadata.model_copy(update={"namespace": "b"})})
    assert component_names([api, other, deployment.services[1]]) == [
        "webapp-api",
        "b-api",
        "frontend",
    ]


def test_program_deploys_every_service_through_one_provider(tmp_path: Path) -> None:
    deployment = load_deployment(WEBAPP)
    program = build_program(deployment, Target(render_to=tmp_path))
    monitor = run_program(program)
    provider = monitor.find("pulumi:providers:kubernetes", PROVIDER_NAME)
    assert provider.inputs["renderYamlToDirectory"] == str(tmp_path)
    services = [r for r in monitor.registrations if r.type == TYPE_TOKEN]
    assert sorted(r.name for r in services) == ["api", "frontend", "postgres", "redis", "worker"]
    children = [r for r in monitor.registrations if r.parent in {s.urn for s in services}]
    expected = sum(len(compile_service(s, deployment.context)) for s in deployment.services)
    assert len(children) == expected
    assert {c.provider.split("::")[-2] for c in children} == {PROVIDER_NAME}


def test_program_deploys_the_provisioned_redis_with_the_cart(tmp_path: Path) -> None:
    own = tmp_path / "own.yaml"
    own.write_text("- type: nats\n  outputs: {host: '${name}.${namespace}.svc'}\n")
    deployment = load_deployment([EXAMPLES / "boutique"], provisioner_paths=[own])
    entries = deployment.context.provisioners
    assert entries[0].type == "nats" and {"redis", "postgres"} <= {e.type for e in entries}
    monitor = run_program(build_program(deployment, Target(render_to=tmp_path / "out")))
    registered = {(r.type.split(":")[-1], r.name) for r in monitor.registrations}
    assert ("StatefulSet", "cart-cart-redis-cart") in registered
    assert ("Password", "cart-cart-redis-cart-password") in registered
    assert ("CiliumNetworkPolicy", "cart-cart-redis-cart-mesh") in registered
