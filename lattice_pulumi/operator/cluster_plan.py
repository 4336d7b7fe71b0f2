"""The self-cluster planner: a LatticeCluster spec and its Cluster API objects in, the next
changes and the status out.

``plan_cluster(cluster, observed, generation)`` is pure (no I/O, no clock). Its changes:

* **scaling**: a pool with fixed ``replicas`` gets them on its MachineDeployment; a pool
  with ``min``/``max`` keeps the replicas the cluster-autoscaler sets and gets the
  node-group bound annotations the compiler emits (``compile.cluster.core``); the control
  plane gets ``nodes.controlPlane.replicas``. A pool whose MachineDeployment is missing is
  reported (``PoolsScaled=False``), never created: new pools need templates that only the
  full cluster compile (Pulumi) has.
* **version**: ``cluster_rollout.plan_rollout`` (control plane first, one minor at a time).
* **health checks**: the MachineHealthChecks ``compile.cluster.core`` builds, applied
  again when missing or when a field the compiler sets differs (an edit is undone; fields
  it does not set are left to whoever set them).

Changes to the control plane and MachineDeployments are JSON merge patches of exactly the
fields decided here; health checks are whole objects for server-side apply.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal

from lattice_pulumi.compile import apiversions
from lattice_pulumi.compile.cluster import core
from lattice_pulumi.operator import cluster_status
from lattice_pulumi.operator.cluster_observed import (
    Observed,
    PoolView,
    control_plane_view,
    pool_view,
)
from lattice_pulumi.operator.cluster_rollout import Rollout, plan_rollout
from lattice_pulumi.operator.cluster_versions import Version, parse_version, spell_version
from lattice_pulumi.spec.cluster import LatticeCluster

__all__ = [
    "Change",
    "Plan",
    "control_plane_kind",
    "desired_health_checks",
    "plan_cluster",
    "target_version",
]


@dataclass(frozen=True)
class Change:
    """One write: a merge ``patch`` of some fields, or an ``apply`` of a whole object."""

    action: Literal["patch", "apply"]
    api_version: str
    kind: str
    namespace: str
    name: str
    body: dict[str, Any]
    why: str

    @property
    def identity(self) -> str:
        return f"{self.kind} {self.namespace}/{self.name}"


@dataclass(frozen=True)
class Plan:
    """What to write now, the status to report, and whether anything is still moving."""

    changes: tuple[Change, ...]
    status: dict[str, Any]
    settled: bool


def _patch(body: Mapping[str, Any], patch: dict[str, Any], why: str) -> Change:
    meta = body["metadata"]
    return Change(
        "patch",
        body["apiVersion"],
        body["kind"],
        meta.get("namespace", ""),
        meta["name"],
        patch,
        why,
    )


def desired_health_checks(cluster: LatticeCluster) -> list[dict[str, Any]]:
    """The MachineHealthChecks the compiler emits: control plane, then pools by name."""
    checks = [core.build_control_plane_health_check(cluster)]
    checks += [
        core.build_pool_health_check(cluster, name)
        for name in sorted(cluster.spec.nodes.worker_pools)
    ]
    return checks


def _contains(want: Any, have: Any) -> bool:
    """Whether every field of ``want`` is in ``have`` with the same value (lists whole)."""
    if isinstance(want, Mapping):
        return isinstance(have, Mapping) and all(
            key in have and _contains(value, have[key]) for key, value in want.items()
        )
    return bool(want == have)


def _health_check_changes(cluster: LatticeCluster, observed: Observed) -> list[Change]:
    changes = []
    for check in desired_health_checks(cluster):
        name = check["metadata"]["name"]
        have = observed.health_checks.get(name)
        if have is None:
            why = "recreate the missing MachineHealthCheck"
        elif not _contains(check["spec"], have.get("spec")) or not _contains(
            check["metadata"]["labels"], have.get("metadata", {}).get("labels")
        ):
            why = "restore the MachineHealthCheck's fields the compiler sets"
        else:
            continue
        meta = check["metadata"]
        changes.append(
            Change("apply", check["apiVersion"], check["kind"], meta["namespace"], name, check, why)
        )
    return changes


def _scaling_changes(cluster: LatticeCluster, observed: Observed) -> list[Change]:
    changes = []
    plane = observed.control_plane
    want_plane = cluster.spec.nodes.control_plane.replicas
    if plane is not None and (plane.get("spec") or {}).get("replicas") != want_plane:
        changes.append(
            _patch(plane, {"spec": {"replicas": want_plane}}, f"control plane to {want_plane}")
        )
    for name, pool in sorted(cluster.spec.nodes.worker_pools.items()):
        body = observed.deployments.get(name)
        if body is None:
            continue
        if pool.min is not None and pool.max is not None:
            bounds = {
                core.AUTOSCALER_MAX_SIZE: str(pool.max),
                core.AUTOSCALER_MIN_SIZE: str(pool.min),
            }
            annotations = body.get("metadata", {}).get("annotations") or {}
            if not _contains(bounds, annotations):
                changes.append(
                    _patch(
                        body,
                        {"metadata": {"annotations": bounds}},
                        f"pool {name}: autoscaler bounds {pool.min}..{pool.max}",
                    )
                )
        elif (
            pool.replicas is not None and (body.get("spec") or {}).get("replicas") != pool.replicas
        ):
            changes.append(
                _patch(
                    body, {"spec": {"replicas": pool.replicas}}, f"pool {name} to {pool.replicas}"
                )
            )
    return changes


def _version_changes(
    rollout: Rollout, observed: Observed, flavour: Literal["kubeadm", "rke2"]
) -> list[Change]:
    changes = []
    if rollout.control_plane_version is not None and observed.control_plane is not None:
        spelled = spell_version(rollout.control_plane_version, flavour)
        changes.append(
            _patch(
                observed.control_plane, {"spec": {"version": spelled}}, f"control plane {spelled}"
            )
        )
    for name, version in rollout.pool_versions:
        spelled = spell_version(version, flavour)
        patch = {"spec": {"template": {"spec": {"version": spelled}}}}
        changes.append(_patch(observed.deployments[name], patch, f"pool {name} {spelled}"))
    return changes


def _pool_views(cluster: LatticeCluster, observed: Observed) -> list[PoolView]:
    pools = cluster.spec.nodes.worker_pools
    return [
        pool_view(name, observed.deployments[name])
        for name in sorted(pools)
        if name in observed.deployments
    ]


def plan_cluster(cluster: LatticeCluster, observed: Observed, generation: int) -> Plan:
    """The next changes and the status of the operator's own cluster (module docstring)."""
    target = target_version(cluster)
    flavour = cluster.spec.provider.kubernetes.bootstrap
    changes: list[Change] = []
    rollout: Rollout | None = None
    if observed.cluster is not None:  # no Cluster API Cluster: nothing here to converge
        changes += _scaling_changes(cluster, observed)
        if observed.control_plane is not None:
            pools = _pool_views(cluster, observed)
            rollout = plan_rollout(target, control_plane_view(observed.control_plane), pools)
            changes += _version_changes(rollout, observed, flavour)
        changes += _health_check_changes(cluster, observed)
    status = cluster_status.build_cluster_status(
        cluster,
        observed,
        rollout,
        target,
        generation,
        scaling=[c.why for c in changes if _is_scaling(c)],
    )
    settled = not changes and rollout is not None and rollout.done
    return Plan(tuple(changes), status, settled)


def _is_scaling(change: Change) -> bool:
    return change.action == "patch" and (
        "replicas" in change.body.get("spec", {}) or "metadata" in change.body
    )


def control_plane_kind(cluster: LatticeCluster) -> tuple[str, str]:
    """(apiVersion, kind) of the cluster's control plane object."""
    kind = (
        "RKE2ControlPlane"
        if cluster.spec.provider.kubernetes.bootstrap == "rke2"
        else "KubeadmControlPlane"
    )
    return apiversions.API_VERSIONS[kind], kind


def target_version(cluster: LatticeCluster) -> Version:
    """The spec's Kubernetes version (the model checked it is X.Y.Z)."""
    version = parse_version(cluster.spec.provider.kubernetes.version)
    assert version is not None
    return version
