"""Waiting on Cluster API: the Cluster provisioned, the machines running, the Cluster gone.

Everything read here is written by the Cluster API controllers (the Cluster's phase and
conditions, each Machine's phase and ``nodeRef``) and by the providers (the control plane's
``status.readyReplicas``); Lattice only reads and counts. ``wait_until`` polls a check with
a deadline and tells the reporter each count as it changes.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from lattice_pulumi.errors import InstallError
from lattice_pulumi.install import cluster_state
from lattice_pulumi.install.context import Reporter

__all__ = ["CAPI", "cluster_provisioned", "machine_counts", "wait_until"]

CAPI = cluster_state.CAPI


def cluster_provisioned(kubeconfig: Path, name: str, namespace: str) -> bool:
    """The Cluster exists, is not paused and its phase is ``Provisioned``."""
    cluster = cluster_state.get(kubeconfig, CAPI, "Cluster", name, namespace)
    if cluster is None:
        return False
    return (cluster.get("status") or {}).get("phase") == "Provisioned"


def _desired(kubeconfig: Path, namespace: str, cluster: dict[str, Any]) -> int:
    ref = (cluster.get("spec") or {}).get("controlPlaneRef") or {}
    total = 0
    if ref.get("name"):
        group = ref.get("apiGroup", "controlplane.cluster.x-k8s.io")
        control = cluster_state.get(
            kubeconfig, f"{group}/v1beta2", ref["kind"], ref["name"], namespace
        )
        total += int(((control or {}).get("spec") or {}).get("replicas") or 0)
    for deployment in cluster_state.list_in(kubeconfig, CAPI, "MachineDeployment", namespace):
        total += int((deployment.get("spec") or {}).get("replicas") or 0)
    return total


def machine_counts(kubeconfig: Path, name: str, namespace: str) -> tuple[int, int]:
    """``(running, desired)`` machines of the cluster: desired is the control plane's and
    every MachineDeployment's replicas; running counts Machines in phase ``Running`` (their
    node joined) and the control plane's ready replicas, whichever the providers report."""
    cluster = cluster_state.get(kubeconfig, CAPI, "Cluster", name, namespace)
    if cluster is None:
        return 0, 0
    desired = _desired(kubeconfig, namespace, cluster)
    machines = [
        m
        for m in cluster_state.list_in(kubeconfig, CAPI, "Machine", namespace)
        if (m["metadata"].get("labels") or {}).get("cluster.x-k8s.io/cluster-name") == name
    ]
    running = sum(1 for m in machines if (m.get("status") or {}).get("phase") == "Running")
    workers = sum(
        1
        for m in machines
        if "cluster.x-k8s.io/control-plane" not in (m["metadata"].get("labels") or {})
    )
    ref = (cluster.get("spec") or {}).get("controlPlaneRef") or {}
    if ref.get("name") and len(machines) == workers:
        # no control plane Machines (a provider that reports replicas only): its count
        group = ref.get("apiGroup", "controlplane.cluster.x-k8s.io")
        control = cluster_state.get(
            kubeconfig, f"{group}/v1beta2", ref["kind"], ref["name"], namespace
        )
        running += int(((control or {}).get("status") or {}).get("readyReplicas") or 0)
    return min(running, desired), desired


def wait_until(
    check: Callable[[], tuple[int, int]],
    what: str,
    reporter: Reporter,
    timeout: float,
    poll: float,
) -> None:
    """Poll ``check`` (``(done, total)``) until done == total > 0 or ``total == 0`` is
    what is awaited (``what`` ends with 'gone'); InstallError at the deadline."""
    deadline = time.monotonic() + timeout
    last: tuple[int, int] | None = None
    while True:
        done, total = check()
        if (done, total) != last:
            reporter.count(what, done, total)
            last = (done, total)
        if done == total and (total > 0 or what.endswith("gone")):
            return
        if time.monotonic() > deadline:
            raise InstallError(f"{what}: {done} of {total} after {timeout:.0f}s")
        time.sleep(poll)
