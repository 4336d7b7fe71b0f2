"""Fixtures of the operator tests: CRDs installed once, one operator process per test."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from harness.control_plane import ControlPlane
from harness.kube import KubeClient
from harness.operator import OperatorProcess, install_operator_crds


@pytest.fixture(scope="session")
def operator_crds(kube: KubeClient, crd_schemas: Path) -> None:
    install_operator_crds(kube)


@pytest.fixture
def operator_process(
    control_plane: ControlPlane, operator_crds: None, tmp_path: Path
) -> Iterator[OperatorProcess]:
    process = OperatorProcess(control_plane, tmp_path / "operator.log").start()
    try:
        yield process
    finally:
        process.kill()
