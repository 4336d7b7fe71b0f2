"""The LatticeCluster status the operator reports for its own cluster.

Fields (``spec.cluster.LatticeClusterStatus``): ``phase``; node counts, ready of desired,
for the control plane, the workers and each pool (``ready`` as the Cluster API
controllers count it in ``status.readyReplicas``; ``desired`` from the spec, or the
autoscaler's replicas for a pool with ``min``/``max``); ``kubernetesVersion`` (what the
whole control plane runs); ``versionRollout``; and four conditions. ``ControlPlaneReady``
and ``WorkersReady`` carry the names the agent reports to the cell, which
``lattice get clusters`` shows (``agent.health``); ``VersionUpgraded`` says where the
rollout is or why it is refused; ``PoolsScaled`` whether every pool has its replicas.
The phases are those of the fleet view (``cli.fleet_view.PHASES``): Provisioning (no
control plane version yet), Ready, Degraded (a node short), Deleting, Failed (invalid
spec). Pure; ``stamp_transitions`` keeps a condition's time while its status holds.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from lattice_pulumi.operator.cluster_observed import Observed, control_plane_view, pool_view
from lattice_pulumi.operator.cluster_rollout import Rollout
from lattice_pulumi.operator.cluster_versions import Version
from lattice_pulumi.spec.cluster import LatticeCluster

__all__ = ["CONDITION_TYPES", "build_cluster_status", "failed_status", "stamp_transitions"]

CONDITION_TYPES = ("ControlPlaneReady", "WorkersReady", "VersionUpgraded", "PoolsScaled")


def _condition(kind: str, ok: bool, reason: str, message: str, generation: int) -> dict[str, Any]:
    return {
        "type": kind,
        "status": "True" if ok else "False",
        "reason": reason,
        "message": message,
        "observedGeneration": generation,
    }


def _pools(cluster: LatticeCluster, observed: Observed) -> list[dict[str, Any]]:
    rows = []
    for name, pool in sorted(cluster.spec.nodes.worker_pools.items()):
        autoscaled = pool.min is not None and pool.max is not None
        body = observed.deployments.get(name)
        view = pool_view(name, body) if body is not None else None
        if pool.replicas is not None and not autoscaled:
            desired = pool.replicas
        else:
            desired = view.replicas if view is not None else pool.min or 0
        row: dict[str, Any] = {
            "name": name,
            "ready": view.ready if view is not None else 0,
            "desired": desired,
            "autoscaled": autoscaled,
        }
        if view is not None and view.spec_version is not None:
            row["version"] = str(view.spec_version)
        rows.append(row)
    return rows


def _rollout_status(rollout: Rollout | None, target: Version, running: Version | None) -> Any:
    """None values stay: the status is a merge patch, and None removes an old value."""
    return {
        "target": str(target),
        "current": str(running) if running else None,
        "step": str(rollout.step) if rollout and rollout.step else None,
        "stage": rollout.stage if rollout else "Waiting",
    }


def _phase(observed: Observed, running: Version | None, all_ready: bool) -> str:
    meta = (observed.cluster or {}).get("metadata", {})
    if meta.get("deletionTimestamp"):
        return "Deleting"
    if observed.control_plane is None or running is None:
        return "Provisioning"
    return "Ready" if all_ready else "Degraded"


def build_cluster_status(
    cluster: LatticeCluster,
    observed: Observed,
    rollout: Rollout | None,
    target: Version,
    generation: int,
    *,
    scaling: Sequence[str] = (),
) -> dict[str, Any]:
    """The status (module docstring); ``scaling`` lists the scaling changes made now."""
    plane = control_plane_view(observed.control_plane) if observed.control_plane else None
    running = plane.status_version if plane else None
    cp = {
        "ready": plane.ready if plane else 0,
        "desired": cluster.spec.nodes.control_plane.replicas,
    }
    pools = _pools(cluster, observed)
    workers = {"ready": sum(p["ready"] for p in pools), "desired": sum(p["desired"] for p in pools)}
    missing = [p for p in sorted(cluster.spec.nodes.worker_pools) if p not in observed.deployments]
    cp_ok, workers_ok = cp["ready"] >= cp["desired"], workers["ready"] >= workers["desired"]
    phase = _phase(observed, running, cp_ok and workers_ok and not missing)
    upgrade = rollout or _waiting(observed)
    conditions = [
        _nodes_condition("ControlPlaneReady", "control-plane", cp, generation),
        _nodes_condition("WorkersReady", "worker", workers, generation),
        _condition("VersionUpgraded", upgrade.done, upgrade.reason, upgrade.message, generation),
        _scaled_condition(missing, scaling, generation),
    ]
    status: dict[str, Any] = {
        "phase": phase,
        "message": _summary(cp, workers, upgrade),
        "observedGeneration": generation,
        "readyControlPlane": cp["ready"],
        "readyWorkers": workers["ready"],
        "controlPlane": cp,
        "workers": workers,
        "pools": pools,
        "versionRollout": _rollout_status(rollout, target, running),
        "conditions": conditions,
        "kubernetesVersion": str(running) if running else None,
    }
    return status


def _nodes_condition(
    kind: str, what: str, counts: Mapping[str, int], generation: int
) -> dict[str, Any]:
    ok = counts["ready"] >= counts["desired"]
    return _condition(
        kind,
        ok,
        "AllNodesReady" if ok else "NodesNotReady",
        f"{counts['ready']}/{counts['desired']} {what} nodes ready",
        generation,
    )


def _scaled_condition(
    missing: Sequence[str], scaling: Sequence[str], generation: int
) -> dict[str, Any]:
    if missing:
        message = f"no MachineDeployment for pools {', '.join(missing)} (created by lattice up)"
        return _condition("PoolsScaled", False, "PoolMissing", message, generation)
    if scaling:
        return _condition("PoolsScaled", False, "Scaling", "; ".join(scaling), generation)
    return _condition("PoolsScaled", True, "AsSpecified", "every pool has its replicas", generation)


def _waiting(observed: Observed) -> Rollout:
    where = "no control plane object yet"
    if observed.cluster is None:
        where = "no Cluster API Cluster yet"
    return Rollout("Waiting", "ControlPlaneMissing", where)


def _summary(cp: Mapping[str, int], workers: Mapping[str, int], upgrade: Rollout) -> str:
    nodes = (
        f"control plane {cp['ready']}/{cp['desired']}, workers "
        f"{workers['ready']}/{workers['desired']} ready"
    )
    return nodes if upgrade.done else f"{nodes}; {upgrade.message}"


def failed_status(message: str, generation: int) -> dict[str, Any]:
    """The status of a LatticeCluster whose spec does not load."""
    return {
        "phase": "Failed",
        "message": message,
        "observedGeneration": generation,
        "conditions": [_condition("SpecValid", False, "InvalidSpec", message, generation)],
    }


def stamp_transitions(
    previous: Mapping[str, Any] | None, status: dict[str, Any], now: str
) -> dict[str, Any]:
    """``status`` with each condition's ``lastTransitionTime``: kept while the status holds."""
    old = {c.get("type"): c for c in (previous or {}).get("conditions") or []}
    stamped = []
    for condition in status.get("conditions", []):
        before = old.get(condition["type"], {})
        kept = before.get("status") == condition["status"] and before.get("lastTransitionTime")
        stamped.append({**condition, "lastTransitionTime": kept or now})
    return {**status, "conditions": stamped}
