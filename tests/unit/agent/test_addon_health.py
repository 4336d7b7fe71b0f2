"""Add-on health as heartbeat conditions, and how ``lattice get cluster`` splits them out."""

from __future__ import annotations

from typing import Any

import pytest

from lattice_pulumi.agent.addon_health import condition_of
from lattice_pulumi.cli.fleet_addons import AddonRow, addons_data, split_addons
from lattice_pulumi.protocol import pb
from lattice_pulumi.protocol.addons import addon_condition_type, addon_of_condition


def _proxy(conditions: list[dict[str, Any]] | None) -> dict[str, Any]:
    body: dict[str, Any] = {"metadata": {"name": "cilium", "labels": {"lattice.dev/addon": "x"}}}
    if conditions is not None:
        body["status"] = {"conditions": conditions}
    return body


@pytest.mark.parametrize(
    ("conditions", "expected"),
    [
        pytest.param(
            [{"type": "Ready", "status": "True", "reason": "", "message": ""}],
            ("True", "", ""),
            id="ready release is healthy",
        ),
        pytest.param(
            [
                {"type": "HelmReleaseProxiesReady", "status": "True"},
                {"type": "Ready", "status": "False", "reason": "InstallFailed", "message": "x"},
            ],
            ("False", "InstallFailed", "x"),
            id="failed release keeps CAAPH's reason",
        ),
        pytest.param(
            None,
            ("Unknown", "NotReported", "the add-on provider has not reported on it yet"),
            id="no status yet",
        ),
    ],
)
def test_a_helm_chart_proxy_becomes_one_addon_condition(
    conditions: list[dict[str, Any]] | None, expected: tuple[str, str, str]
) -> None:
    condition = condition_of("cilium", _proxy(conditions))
    assert condition.type == "Addon.cilium"
    assert (condition.status, condition.reason, condition.message) == expected


def test_addon_condition_types_round_trip() -> None:
    assert addon_of_condition(addon_condition_type("cert-manager")) == "cert-manager"
    assert addon_of_condition("WorkersReady") is None
    assert addon_of_condition("Addon.") is None


def test_get_cluster_shows_addons_apart_from_the_clusters_conditions() -> None:
    reported = [
        pb.Condition(type="ControlPlaneReady", status="True"),
        pb.Condition(type="Addon.istiod", status="False", reason="Failed", message="boom"),
        pb.Condition(type="Addon.cilium", status="True"),
        pb.Condition(type="Addon.velero", status="Unknown"),
    ]
    rows, rest = split_addons(reported)
    assert rows == [
        AddonRow("cilium", "Healthy", "", ""),
        AddonRow("istiod", "Unhealthy", "Failed", "boom"),
        AddonRow("velero", "Unknown", "", ""),
    ]
    assert [c.type for c in rest] == ["ControlPlaneReady"]
    assert addons_data(reported)[1] == {
        "name": "istiod",
        "health": "Unhealthy",
        "reason": "Failed",
        "message": "boom",
    }
