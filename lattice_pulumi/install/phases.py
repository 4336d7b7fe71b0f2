"""The phases of ``lattice install`` and ``lattice uninstall`` and the plan they print (pure).

Install: start a bootstrap management plane, install Cluster API (core, the bootstrap and
control-plane providers the cluster's flavour needs, its infrastructure provider) and the
Lattice operator, apply the LatticeCluster and its Cluster API objects, wait until the
control plane and machines are ready, install Lattice and the add-ons into the new cluster
(wave by wave, ``install_waves``), pivot the Cluster API objects into it, remove the
bootstrap plane. Uninstall is the reverse: bootstrap plane, pivot back, delete the cluster
through Cluster API, remove the bootstrap plane. ``plan_install`` says what each phase does
for one cluster; ``--dry-run`` prints it.
"""

from __future__ import annotations

from dataclasses import dataclass

from lattice_pulumi.compile.cluster import ClusterCompileContext, compile_cluster
from lattice_pulumi.compile.cluster.addons import install_waves, plan_addons
from lattice_pulumi.spec.cluster import LatticeCluster
from lattice_pulumi.spec.providers import CloudProvider

__all__ = ["INSTALL_PHASES", "UNINSTALL_PHASES", "Phase", "PlannedPhase", "plan_install"]


@dataclass(frozen=True)
class Phase:
    """One step of an install or uninstall: a stable name (saved in progress) and a title."""

    name: str
    title: str


INSTALL_PHASES: tuple[Phase, ...] = (
    Phase("bootstrap-plane", "start a bootstrap management plane"),
    Phase("cluster-api", "install Cluster API, its providers and the Lattice operator"),
    Phase("apply-cluster", "apply the LatticeCluster and its Cluster API objects"),
    Phase("wait-ready", "wait until the control plane and machines are ready"),
    Phase("addons", "install Lattice and the add-ons into the new cluster"),
    Phase("pivot", "move the Cluster API objects into the new cluster"),
    Phase("remove-bootstrap", "remove the bootstrap plane"),
)

UNINSTALL_PHASES: tuple[Phase, ...] = (
    Phase("bootstrap-plane", "start a bootstrap management plane"),
    Phase("pivot-back", "move the Cluster API objects back into the bootstrap plane"),
    Phase("delete-cluster", "delete the cluster through Cluster API"),
    Phase("remove-bootstrap", "remove the bootstrap plane"),
)


@dataclass(frozen=True)
class PlannedPhase:
    """A phase with what it does for one cluster."""

    phase: Phase
    details: tuple[str, ...]


def _providers(cluster: LatticeCluster) -> str:
    config = cluster.spec.provider.config
    flavour = cluster.spec.provider.kubernetes.bootstrap
    return f"core, {flavour} bootstrap and control plane, {config.type} infrastructure"


def _details(phase: str, cluster: LatticeCluster, cloud: CloudProvider) -> tuple[str, ...]:
    spec = cluster.spec
    if phase == "cluster-api":
        return (_providers(cluster), f"credentials from CloudProvider {cloud.name}")
    if phase == "apply-cluster":
        objects = compile_cluster(cluster, cloud, ClusterCompileContext())
        return (f"{len(objects)} Cluster API objects in namespace capi-{cluster.name}",)
    if phase == "wait-ready":
        pools = spec.nodes.worker_pools
        workers = ", ".join(f"{n} ({p.replicas if p.min is None else f'{p.min}..{p.max}'})"
                            for n, p in sorted(pools.items()))  # fmt: skip
        return (f"control plane: {spec.nodes.control_plane.replicas}", f"pools: {workers or '-'}")
    if phase == "addons":
        waves = install_waves(plan_addons(cluster))
        return tuple(
            f"wave {i + 1}: " + ", ".join(f"{a.name} {a.version}" for a in wave)
            for i, wave in enumerate(waves)
        )
    if phase == "pivot":
        return (f"cluster {cluster.name} becomes self-managing",)
    return ()


def plan_install(cluster: LatticeCluster, cloud: CloudProvider) -> list[PlannedPhase]:
    """Every install phase with what it does for ``cluster``, in order."""
    return [PlannedPhase(p, _details(p.name, cluster, cloud)) for p in INSTALL_PHASES]
