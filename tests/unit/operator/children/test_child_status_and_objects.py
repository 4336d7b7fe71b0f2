"""Child provisioning, the pure parts: phases and conditions, add-on health, the Secrets."""

from __future__ import annotations

import base64
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from lattice_pulumi import pki
from lattice_pulumi.compile.cluster.addons import Addon
from lattice_pulumi.operator.children import addons, objects
from lattice_pulumi.operator.children.status import PhaseReport, build_child_status
from lattice_pulumi.operator.ownership import OWNER_LABEL
from lattice_pulumi.protocol import pb

NOW = "2026-12-02T10:00:00Z"


def _conditions(status: dict[str, Any]) -> dict[str, str]:
    return {c["type"]: c["status"] for c in status["conditions"]}


@pytest.mark.parametrize(
    ("phase", "expected"),
    [
        pytest.param(
            "Provisioning",
            {"Provisioned": "False", "Enrolled": "False", "Pivoted": "False"},
            id="applied, control plane not up",
        ),
        pytest.param(
            "Enrolling",
            {"Provisioned": "True", "Enrolled": "False", "Pivoted": "False"},
            id="control plane up, agent not yet",
        ),
        pytest.param(
            "Pivoting",
            {"Provisioned": "True", "Enrolled": "True", "Pivoted": "False"},
            id="agent connected, moving",
        ),
        pytest.param(
            "Ready",
            {"Provisioned": "True", "Enrolled": "True", "Pivoted": "True"},
            id="moved",
        ),
    ],
)
def test_each_phase_marks_the_steps_behind_it(phase: Any, expected: dict[str, str]) -> None:
    status = build_child_status(None, PhaseReport(phase, "Reason", "message", 3), NOW)
    conditions = _conditions(status)
    assert {k: conditions[k] for k in expected} == expected
    assert conditions["Ready"] == ("True" if phase == "Ready" else "False")
    assert conditions["Failed"] == "False"
    assert (status["phase"], status["observedGeneration"]) == (phase, 3)


def test_failed_carries_its_reason_and_message() -> None:
    status = build_child_status(None, PhaseReport("Failed", "InvalidSpec", "bad pool", 1), NOW)
    failed = next(c for c in status["conditions"] if c["type"] == "Failed")
    assert (failed["status"], failed["reason"], failed["message"]) == (
        "True",
        "InvalidSpec",
        "bad pool",
    )
    assert status["message"] == "bad pool"


def test_transition_time_is_kept_while_a_condition_holds() -> None:
    first = build_child_status(None, PhaseReport("Enrolling", "A", "m", 1), NOW)
    later = build_child_status(first, PhaseReport("Pivoting", "B", "m", 1), "2026-12-02T11:00:00Z")
    times = {c["type"]: c["lastTransitionTime"] for c in later["conditions"]}
    assert times["Provisioned"] == NOW  # True in both
    assert times["Enrolled"] == "2026-12-02T11:00:00Z"  # became True


PLAN = [
    Addon("cilium", "cilium", "https://helm.cilium.io", "1.18.1", "kube-system", "CNI"),
    Addon("cert-manager", "cert-manager", "https://charts.jetstack.io", "v1.18.2", "cm", "certs"),
    Addon("istiod", "istiod", "https://istio", "1.27.0", "istio-system", "mesh"),
]


def test_addon_health_follows_the_agents_conditions_in_plan_order() -> None:
    reported = [
        pb.Condition(type="Addon.istiod", status="False", reason="InstallFailed", message="boom"),
        pb.Condition(type="Addon.cilium", status="True", reason="Ready"),
        pb.Condition(type="ControlPlaneReady", status="True"),
        pb.Condition(type="Addon.unplanned", status="True"),
    ]
    statuses = addons.addon_statuses(PLAN, reported)
    assert [(s["name"], s["version"], s["health"], s["message"]) for s in statuses] == [
        ("cilium", "1.18.1", "Healthy", "Ready"),
        ("cert-manager", "v1.18.2", "Unknown", addons.NOT_REPORTED),
        ("istiod", "1.27.0", "Unhealthy", "boom"),
    ]
    assert addons.summary(statuses) == "1/3 add-ons healthy"


def test_addons_are_unknown_before_any_report() -> None:
    assert {s["health"] for s in addons.addon_statuses(PLAN, None)} == {"Unknown"}


def test_child_objects_carry_the_owner_label_and_no_owner_reference() -> None:
    compiled = [
        {
            "apiVersion": "cluster.x-k8s.io/v1beta2",
            "kind": "Cluster",
            "metadata": {
                "name": "dev",
                "namespace": "capi-dev",
                "labels": {"cluster.x-k8s.io/cluster-name": "dev"},
                "ownerReferences": [{"uid": "x"}],
            },
        }
    ]
    [stamped] = objects.stamp_child_objects(compiled, "dev", "uid-1")
    assert stamped["metadata"]["labels"][OWNER_LABEL] == "uid-1"
    assert stamped["metadata"]["labels"]["cluster.x-k8s.io/cluster-name"] == "dev"
    assert "ownerReferences" not in stamped["metadata"]
    assert "ownerReferences" in compiled[0]["metadata"]  # the input is not changed


def test_token_secret_is_where_the_compiler_points_and_records_only_id_and_expiry() -> None:
    expires = datetime(2026, 12, 2, 12, 0, tzinfo=UTC)
    issued = pki.IssuedToken("lt1.abc.secret-part", "abc", "dev", expires)
    secret = objects.token_secret("dev", issued, "uid-1")
    assert (secret["metadata"]["namespace"], secret["metadata"]["name"]) == (
        "capi-dev",
        "dev-bootstrap-token",
    )
    assert base64.b64decode(secret["data"]["token"]).decode() == issued.token
    annotations = secret["metadata"]["annotations"]
    assert annotations == {
        objects.TOKEN_ID_ANNOTATION: "abc",
        objects.TOKEN_EXPIRES_ANNOTATION: "2026-12-02T12:00:00Z",
    }
    assert "secret-part" not in str(secret["metadata"])
    assert not objects.token_expired(secret, expires - timedelta(seconds=1))
    assert objects.token_expired(secret, expires)
    assert objects.token_expired({"metadata": {}}, expires)  # unknown expiry: mint again


def test_secret_value_decodes_or_says_none() -> None:
    copy = objects.kubeconfig_copy("dev", "uid-1", b"apiVersion: v1\n")
    assert copy["metadata"]["namespace"] == "lattice-system"
    assert objects.secret_value(copy, "value") == b"apiVersion: v1\n"
    assert objects.secret_value(copy, "missing") is None
    assert objects.secret_value({"data": {"value": "%%%"}}, "value") is None
