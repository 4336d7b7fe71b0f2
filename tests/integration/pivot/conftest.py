"""Two real control planes with the Cluster API CRDs installed, shared by the pivot tests."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass

import pytest
from harness.control_plane import ControlPlane
from pivot_support import install_capi

pytestmark = pytest.mark.integration


@dataclass
class Planes:
    source: ControlPlane
    target: ControlPlane


@pytest.fixture(scope="session")
def planes(control_plane_factory: Callable[..., ControlPlane], crd_schemas: object) -> Planes:
    """A management cluster and the cluster its objects move into (garbage collector on)."""
    source = control_plane_factory("pivot-source")
    target = control_plane_factory("pivot-target")
    for plane in (source, target):
        install_capi(plane.client)
    return Planes(source, target)


@pytest.fixture
def capi_namespace() -> str:
    return f"capi-{uuid.uuid4().hex[:8]}"
