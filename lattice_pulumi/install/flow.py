"""The install and uninstall phases as actions, each with the check a rerun makes first.

``install_actions(ctx, cluster_file, cluster)`` and ``uninstall_actions(ctx, bootstrap)``
return ``(actions, verify)`` for :func:`~lattice_pulumi.install.progress.run_phases`.
Every action is safe to repeat: Pulumi updates converge, the pivot adopts what an earlier
run created (``pivot.lattice.dev/source-uid``), deletes of absent objects are done.

The pivot runs the pivot engine as a library (:func:`lattice_pulumi.pivot.session.
move_clusters`), not the ``Pivot`` dynamic resource: that resource keeps the bootstrap
plane's kubeconfig in the ``cluster`` stack and moves back on destroy, but the bootstrap
plane is gone right after the pivot, so the stack could neither refresh nor destroy it,
and uninstall pivots back into a *new* plane the old state knows nothing of. Driven from
the phase machine, both directions take the kubeconfigs of the planes of this run.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from pathlib import Path
from typing import Any

from lattice_pulumi.compile.cluster.releases import addon_releases
from lattice_pulumi.errors import InstallError
from lattice_pulumi.install import cluster_state
from lattice_pulumi.install.context import InstallContext, management_objects, write_private
from lattice_pulumi.install.readiness import CAPI, cluster_provisioned, machine_counts, wait_until
from lattice_pulumi.install.stacks import ADDONS, CLUSTER, ClusterStack, ObjectsStack
from lattice_pulumi.pivot import MoveOptions
from lattice_pulumi.pivot.session import move_clusters
from lattice_pulumi.spec.cluster import LatticeCluster

__all__ = ["Actions", "install_actions", "moved", "uninstall_actions"]

Actions = tuple[dict[str, Callable[[], None]], dict[str, Callable[[], bool]]]


def _pivot(ctx: InstallContext, source: Path, target: Path) -> None:
    options = MoveOptions(cluster=ctx.cluster, namespace=ctx.namespace)
    asyncio.run(move_clusters(source, target, options))


def _ensure(ctx: InstallContext) -> None:
    ctx.plane.ensure()


def moved(ctx: InstallContext, source: Path, target: Path) -> bool:
    """The Cluster is in ``target``, unpaused, and no longer in ``source``."""
    there = cluster_state.get(target, CAPI, "Cluster", ctx.cluster, ctx.namespace)
    if there is None or (there.get("spec") or {}).get("paused"):
        return False
    return cluster_state.get(source, CAPI, "Cluster", ctx.cluster, ctx.namespace) is None


def _apply_cluster(ctx: InstallContext, cluster_file: Path, cluster: LatticeCluster) -> None:
    kubeconfig = ctx.plane.ensure()
    releases = tuple(addon_releases(cluster))
    outputs = ctx.stacks.up(ClusterStack(CLUSTER, kubeconfig, cluster_file, releases))
    text = outputs.get("kubeconfig")
    if not isinstance(text, str) or not text.strip():
        raise InstallError("the cluster stack gave no kubeconfig", phase="apply-cluster")
    write_private(ctx.kubeconfig, text)


def _addon_objects(ctx: InstallContext, cluster: LatticeCluster) -> tuple[dict[str, Any], ...]:
    """Providers and operator for the new cluster (its Lattice CRDs came with the cluster
    stack; the add-on releases live beside the Cluster API objects and move with them)."""
    management = [
        o
        for o in management_objects(ctx.cluster, ctx.components)
        if o["kind"] != "CustomResourceDefinition" or "lattice.dev" not in o["metadata"]["name"]
    ]
    return tuple(management)


def install_actions(ctx: InstallContext, cluster_file: Path, cluster: LatticeCluster) -> Actions:
    """Every install phase's action and check."""

    def machines() -> tuple[int, int]:
        return machine_counts(ctx.plane.ensure(), ctx.cluster, ctx.namespace)

    def wait_ready() -> None:
        wait_until(machines, "machines ready", ctx.reporter, ctx.timeout, ctx.poll)

    def ready() -> bool:
        done, total = machines()
        return total > 0 and done == total

    addons = ObjectsStack(ADDONS, ctx.kubeconfig, ())

    def apply_addons() -> None:
        ctx.stacks.up(
            ObjectsStack(ADDONS, ctx.kubeconfig, _addon_objects(ctx, cluster), ctx.skip_await)
        )

    def addons_applied() -> bool:
        objects = _addon_objects(ctx, cluster)
        return len(cluster_state.existing(addons.kubeconfig, objects)) == len(objects)

    def remove() -> None:
        ctx.stacks.forget(CLUSTER)
        ctx.remove_bootstrap()

    actions = {
        "bootstrap-plane": lambda: _ensure(ctx),
        "cluster-api": ctx.apply_bootstrap,
        "apply-cluster": lambda: _apply_cluster(ctx, cluster_file, cluster),
        "wait-ready": wait_ready,
        "addons": apply_addons,
        "pivot": lambda: _pivot(ctx, ctx.plane.ensure(), ctx.kubeconfig),
        "remove-bootstrap": remove,
    }
    verify = {
        "bootstrap-plane": ctx.plane.is_up,
        "cluster-api": ctx.bootstrap_applied,
        "apply-cluster": lambda: (
            ctx.kubeconfig.is_file()
            and cluster_provisioned(ctx.plane.ensure(), ctx.cluster, ctx.namespace)
        ),
        "wait-ready": ready,
        "addons": addons_applied,
        "pivot": lambda: moved(ctx, ctx.plane.ensure(), ctx.kubeconfig),
        "remove-bootstrap": ctx.bootstrap_removed,
    }
    return actions, verify


def uninstall_actions(ctx: InstallContext, kubeconfig: Path) -> Actions:
    """Every uninstall phase's action and check; ``kubeconfig`` reaches the cluster."""

    def delete_cluster() -> None:
        plane = ctx.plane.ensure()
        cluster_state.delete(plane, CAPI, "Cluster", ctx.cluster, ctx.namespace)

        def left() -> tuple[int, int]:
            machines = cluster_state.list_in(plane, CAPI, "Machine", ctx.namespace)
            there = cluster_state.get(plane, CAPI, "Cluster", ctx.cluster, ctx.namespace)
            return 0, len(machines) + (there is not None)

        wait_until(left, "Cluster API objects gone", ctx.reporter, ctx.timeout, ctx.poll)

    def gone() -> bool:
        plane = ctx.plane.ensure()
        return cluster_state.get(plane, CAPI, "Cluster", ctx.cluster, ctx.namespace) is None

    def remove() -> None:
        ctx.stacks.forget(ADDONS)
        ctx.remove_bootstrap()

    actions = {
        "bootstrap-plane": ctx.apply_bootstrap,
        "pivot-back": lambda: _pivot(ctx, kubeconfig, ctx.plane.ensure()),
        "delete-cluster": delete_cluster,
        "remove-bootstrap": remove,
    }
    verify = {
        "bootstrap-plane": ctx.bootstrap_applied,
        "pivot-back": lambda: moved(ctx, kubeconfig, ctx.plane.ensure()),
        "delete-cluster": gone,
        "remove-bootstrap": ctx.bootstrap_removed,
    }
    return actions, verify
