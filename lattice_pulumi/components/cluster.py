"""What a LatticeService needs from the cluster it is deployed to.

The ``LatticeCluster`` component satisfies ``ClusterTarget``: it knows the facts compilers
need (``cluster_info``) and the Kubernetes provider that reaches the cluster it created. A
plain ``ClusterInfo`` can also be passed to ``LatticeService(cluster=...)``, with the
provider in ``opts``.
"""

from __future__ import annotations

from typing import Protocol, runtime_checkable

import pulumi

from lattice_pulumi.compile.context import ClusterInfo

__all__ = ["ClusterTarget", "cluster_info_of", "cluster_provider_of"]


@runtime_checkable
class ClusterTarget(Protocol):
    """A cluster a service can be deployed to (such as the LatticeCluster component)."""

    @property
    def cluster_info(self) -> ClusterInfo: ...

    @property
    def kubernetes_provider(self) -> pulumi.ProviderResource | None: ...


def cluster_info_of(cluster: ClusterTarget | ClusterInfo | None) -> ClusterInfo | None:
    """The compile facts of ``cluster`` (None when no cluster was given)."""
    if cluster is None or isinstance(cluster, ClusterInfo):
        return cluster
    return cluster.cluster_info


def cluster_provider_of(
    cluster: ClusterTarget | ClusterInfo | None,
) -> pulumi.ProviderResource | None:
    """The Kubernetes provider reaching ``cluster``, when it brings one."""
    if cluster is None or isinstance(cluster, ClusterInfo):
        return None
    return cluster.kubernetes_provider
