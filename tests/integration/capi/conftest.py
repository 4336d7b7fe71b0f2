"""``capi_plane``: a control plane of its own with the real Cluster API core manager on it."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from harness.capi_manager import CapiManager, start_capi_manager
from harness.control_plane import ControlPlane


@pytest.fixture(scope="module")
def capi_plane(
    control_plane_factory: Callable[..., ControlPlane], tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[ControlPlane, CapiManager]]:
    """A fresh control plane with the Cluster API CRDs and the core manager running."""
    plane = control_plane_factory("capi-core")
    directory: Path = tmp_path_factory.mktemp("capi-manager")
    manager = start_capi_manager(plane, directory)
    try:
        yield plane, manager
    finally:
        manager.stop()
