"""The real Cluster API core controllers (v1.14.2, built from sigs.k8s.io/cluster-api):
what they write on a Cluster is theirs, not ours.

A paused Cluster gets the finalizer and the ``Paused`` condition and nothing else; an
unpaused Cluster without infrastructure gets phase ``Pending`` and the controller's
v1beta2 conditions; unpausing a Cluster hands it to the controller.
"""

from __future__ import annotations

from typing import Any

import pytest
from harness.capi_manager import CapiManager
from harness.control_plane import ControlPlane

pytestmark = pytest.mark.integration

CLUSTER_API = "cluster.x-k8s.io/v1beta2"
FINALIZER = "cluster.cluster.x-k8s.io"


def _cluster(name: str, paused: bool) -> dict[str, Any]:
    return {
        "apiVersion": CLUSTER_API,
        "kind": "Cluster",
        "metadata": {"name": name, "namespace": "default"},
        "spec": {
            "paused": paused,
            "clusterNetwork": {"pods": {"cidrBlocks": ["10.244.0.0/16"]}},
        },
    }


def _conditions(obj: dict[str, Any]) -> dict[str, str]:
    return {c["type"]: c["status"] for c in obj.get("status", {}).get("conditions", [])}


def _get(plane: ControlPlane, name: str) -> dict[str, Any]:
    return dict(plane.client.get(CLUSTER_API, "Cluster", name, "default"))


def test_a_paused_cluster_is_left_alone(capi_plane: tuple[ControlPlane, CapiManager]) -> None:
    plane, manager = capi_plane
    plane.client.apply(_cluster("paused", paused=True))
    plane.client.wait_for(
        lambda: _conditions(_get(plane, "paused")).get("Paused") == "True",
        timeout=60,
        what=f"the Paused condition; manager log:\n{manager.log_tail()}",
    )
    cluster = _get(plane, "paused")
    assert FINALIZER in cluster["metadata"]["finalizers"]
    assert "phase" not in cluster["status"]
    assert set(_conditions(cluster)) == {"Paused"}


def test_an_unpaused_cluster_gets_the_controllers_phase_and_conditions(
    capi_plane: tuple[ControlPlane, CapiManager],
) -> None:
    plane, manager = capi_plane
    plane.client.apply(_cluster("running", paused=False))
    plane.client.wait_for(
        lambda: _get(plane, "running").get("status", {}).get("phase") == "Pending",
        timeout=60,
        what=f"phase Pending; manager log:\n{manager.log_tail()}",
    )
    plane.client.wait_for(
        lambda: (
            {"Paused", "InfrastructureReady", "Available"}
            <= set(_conditions(_get(plane, "running")))
        ),
        timeout=60,
        what="the controller's conditions",
    )
    conditions = _conditions(_get(plane, "running"))
    assert conditions["Paused"] == "False"
    assert conditions["Available"] == "False"  # no infrastructure, no control plane


def test_unpausing_hands_the_cluster_to_the_controller(
    capi_plane: tuple[ControlPlane, CapiManager],
) -> None:
    plane, _ = capi_plane
    plane.client.apply(_cluster("resumed", paused=True))
    plane.client.wait_for(
        lambda: _conditions(_get(plane, "resumed")).get("Paused") == "True",
        timeout=60,
        what="the Paused condition",
    )
    plane.client.apply(_cluster("resumed", paused=False))
    plane.client.wait_for(
        lambda: (
            _get(plane, "resumed").get("status", {}).get("phase") == "Pending"
            and _conditions(_get(plane, "resumed")).get("Paused") == "False"
        ),
        timeout=60,
        what="phase Pending and Paused False after unpausing",
    )
