"""The shipped Pulumi programs run under mocks: the root web application and the Python one."""

from __future__ import annotations

import runpy
from collections.abc import Iterator
from pathlib import Path

import pytest
from pulumi.runtime import config

from lattice_pulumi.components import TYPE_TOKEN
from tests.components.harness import run_program
from tests.conftest import EXAMPLES, ROOT


@pytest.fixture
def stack_config() -> Iterator[dict[str, str]]:
    values: dict[str, str] = {}
    yield values
    config.set_all_config({})


def _run(path: Path, project: str, values: dict[str, str]) -> list[str]:
    config.set_all_config(values)
    monitor = run_program(lambda: bool(runpy.run_path(str(path))), project=project)
    return sorted(r.name for r in monitor.registrations if r.type == TYPE_TOKEN)


def test_root_program_deploys_the_webapp(tmp_path: Path, stack_config: dict[str, str]) -> None:
    stack_config["lattice-webapp:renderTo"] = str(tmp_path)
    names = _run(ROOT / "program" / "__main__.py", "lattice-webapp", stack_config)
    assert names == ["api", "frontend", "postgres", "redis", "worker"]


def test_python_program_composes_services(tmp_path: Path, stack_config: dict[str, str]) -> None:
    stack_config.update(
        {
            "lattice-python-program:renderTo": str(tmp_path),
            "lattice-python-program:imageTag": "2.0.1",
            "lattice-python-program:workers": "4",
        }
    )
    names = _run(
        EXAMPLES / "python-program" / "__main__.py", "lattice-python-program", stack_config
    )
    assert names == ["api", "frontend", "worker-0", "worker-1", "worker-2", "worker-3"]
