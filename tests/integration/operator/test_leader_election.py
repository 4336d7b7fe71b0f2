"""Two real operator processes against one API server: one leads, the other takes over.

Both run ``lattice operator run`` with the same Lease. The standby answers ``/healthz``
but not ``/readyz`` and reconciles nothing while the leader works. After a SIGKILL of the
leader (no Lease release), the standby takes the Lease within a second or two of its
expiry, and converges what changed while no one led: updated, new and deleted services,
with no duplicate object, no leftover and no lost update.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import pytest
from harness.control_plane import ControlPlane
from harness.kube import KubeClient
from harness.operator import OperatorProcess
from operator_support import API, converged, expected, managed, owned, service, wait

pytestmark = pytest.mark.integration

LEASE_SECONDS = 4.0


def _ring(namespace: str, count: int) -> dict[str, dict[str, Any]]:
    """Services each calling the next one (both sides declared), so peers matter."""
    names = [f"ring-{i}" for i in range(count)]
    documents = {}
    for i, name in enumerate(names):
        callee, caller = names[(i + 1) % count], names[(i - 1) % count]
        documents[name] = service(
            name,
            namespace,
            resources={
                callee: {"type": "service", "direction": "outbound"},
                caller: {"type": "service", "direction": "inbound"},
            },
        )
    return documents


def _holder(kube: KubeClient) -> str:
    lease = kube.get("coordination.k8s.io/v1", "Lease", "lattice-operator", "lattice-system")
    return str(lease["spec"].get("holderIdentity") or "")


def test_only_the_leader_reconciles_and_the_standby_takes_over_after_a_kill(
    kube: KubeClient,
    namespace: str,
    control_plane: ControlPlane,
    operator_crds: None,
    tmp_path: Path,
) -> None:
    leader = OperatorProcess(control_plane, tmp_path / "a.log", lease_duration=LEASE_SECONDS)
    standby = OperatorProcess(control_plane, tmp_path / "b.log", lease_duration=LEASE_SECONDS)
    try:
        leader.start()
        standby.start(wait_ready=False)
        documents = _ring(namespace, 6)
        for document in documents.values():
            kube.apply(document)
        for name in documents:
            wait(f"{name} Ready", lambda name=name: converged(kube, name, namespace), leader)
        assert standby.get("/readyz")[0] == 503
        assert standby.metric("lattice_operator_leader") == 0
        assert standby.metric("lattice_operator_reconciles_total") == 0
        assert leader.metric("lattice_operator_leader") == 1

        holder = _holder(kube)
        leader.kill()  # SIGKILL: the Lease stays held until it expires
        killed = time.monotonic()
        for name in ("ring-0", "ring-1", "ring-2"):
            documents[name]["spec"]["containers"]["main"]["variables"] = {"MODE": "slow"}
            kube.apply(documents[name])
        gone = documents.pop("ring-5")
        kube.delete(API, "LatticeService", "ring-5", namespace)
        documents["ring-4"]["spec"]["resources"].pop("ring-5")
        documents["ring-0"]["spec"]["resources"].pop("ring-5")
        kube.apply(documents["ring-4"])
        kube.apply(documents["ring-0"])
        documents["extra"] = service("extra", namespace)
        kube.apply(documents["extra"])

        wait("the Lease to move", lambda: _holder(kube) != holder, standby, LEASE_SECONDS + 10)
        took = time.monotonic() - killed
        assert took < LEASE_SECONDS + 2, f"took over after {took:.1f}s"
        wait("the standby to be ready", standby.ready, standby)
        for name in documents:
            wait(f"{name} converged", lambda name=name: converged(kube, name, namespace), standby)
        total = 0
        for name in documents:
            uid = kube.get(API, "LatticeService", name, namespace)["metadata"]["uid"]
            want = expected(list(documents.values()), name, namespace)
            wait(
                f"{name}'s objects",
                lambda uid=uid, want=want: owned(kube, namespace, uid) == want,
                standby,
                15,
            )
            total += len(want)
        wait("no leftovers of ring-5", lambda: len(managed(kube, namespace)) == total, standby, 30)
        for name in ("ring-0", "ring-1", "ring-2"):
            data = kube.get("v1", "ConfigMap", f"{name}-main-env", namespace)["data"]
            assert data["MODE"] == "slow", name  # changed while no one led: not lost
        assert gone["metadata"]["name"] not in {n for _, n in managed(kube, namespace)}
        assert standby.metric("lattice_operator_leader") == 1
    finally:
        leader.kill()
        standby.kill()
