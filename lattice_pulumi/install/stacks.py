"""What the install phases ask of Pulumi, as data, and the interface that does it.

The phase machine may not import pulumi (``.importlinter``), so it describes each stack as
a small frozen value and hands it to a :class:`StackDriver`; the Automation API one is
``lattice_pulumi.automation.install_stacks.PulumiStacks`` (project ``lattice-install``,
work dir ``stacks/<cluster>``, local file backend). Three stacks per cluster:

* ``bootstrap`` (:class:`ObjectsStack`): the Cluster API provider components and the Lattice
  operator on the bootstrap plane; destroyed when that plane is an existing management
  cluster, forgotten with the plane when it is a kind cluster;
* ``cluster`` (:class:`ClusterStack`): the ``LatticeCluster`` component on the bootstrap
  plane (its Cluster API objects; Pulumi waits until the Cluster is provisioned). After the
  pivot its objects live in the new cluster, which manages them itself, and the plane its
  provider reached goes away: the stack is forgotten (state only), never destroyed;
* ``addons`` (:class:`ObjectsStack`): the provider components, the operator and the add-on
  releases in the new cluster.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

__all__ = ["ADDONS", "BOOTSTRAP", "CLUSTER", "ClusterStack", "ObjectsStack", "StackDriver"]

BOOTSTRAP = "bootstrap"
CLUSTER = "cluster"
ADDONS = "addons"


@dataclass(frozen=True)
class ObjectsStack:
    """Plain manifests applied to the cluster of ``kubeconfig`` (CRDs and namespaces first)."""

    name: str
    kubeconfig: Path
    objects: tuple[Mapping[str, Any], ...]
    skip_await: bool = False
    """Do not wait for workloads to become ready (a plane without nodes runs no pod)."""


@dataclass(frozen=True)
class ClusterStack:
    """The LatticeCluster (and its CloudProvider) of ``cluster_file`` on a management plane."""

    name: str
    kubeconfig: Path
    cluster_file: Path
    releases: tuple[Mapping[str, Any], ...] = ()
    """The add-on releases (HelmChartProxies) beside it: the Helm add-on provider on the
    plane installs them (the CNI first) as soon as the new cluster answers."""


class StackDriver(Protocol):
    """Runs the stacks of one cluster's install."""

    def up(self, stack: ObjectsStack | ClusterStack) -> Mapping[str, Any]:
        """Bring the stack to its description; its outputs (secrets in the clear, in memory)."""
        ...

    def destroy(self, name: str) -> None:
        """Delete what the stack holds, then the stack (a missing stack is done)."""
        ...

    def forget(self, name: str) -> None:
        """Drop the stack's state and leave its resources where they are."""
        ...
