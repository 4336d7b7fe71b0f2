"""Which kinds a move looks at: the Cluster API CRDs of a cluster, plus Secret and ConfigMap.

:func:`discover_kinds` lists the CustomResourceDefinitions of the core group
(``cluster.x-k8s.io``) and every CRD labelled ``clusterctl.cluster.x-k8s.io`` or
``cluster.x-k8s.io/provider`` (what ``clusterctl init`` and provider manifests put on
them), each at its storage version. Used by the mover on the source (what to list) and on
the target (preflight: is every kind served there).

A CRD's own labels ``clusterctl.cluster.x-k8s.io/move`` and ``/move-hierarchy`` say that
every object of the kind moves on its own (with what it owns, for ``-hierarchy``), whether
or not a Cluster owns it: :attr:`KindInfo.move` and :attr:`KindInfo.move_hierarchy`.
Providers put them on kinds that belong to no Cluster, such as CAPA's cluster-scoped
identities (``AWSClusterStaticIdentity``, ``AWSClusterRoleIdentity``, ...).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from lightkube import AsyncClient
from lightkube.resources.apiextensions_v1 import CustomResourceDefinition

from lattice_pulumi.kube import api_errors
from lattice_pulumi.pivot.objects import CAPI_GROUP, MOVE_HIERARCHY_LABEL, MOVE_LABEL

__all__ = ["CORE_KINDS", "KindInfo", "discover_kinds", "kinds_from_crds"]

_CRD_LABELS = ("clusterctl.cluster.x-k8s.io", "cluster.x-k8s.io/provider")


@dataclass(frozen=True, order=True)
class KindInfo:
    """One kind as the API server serves it."""

    group: str
    version: str
    kind: str
    plural: str
    namespaced: bool = True
    has_status: bool = False
    move: bool = False  # CRD labelled clusterctl.cluster.x-k8s.io/move
    move_hierarchy: bool = False  # CRD labelled clusterctl.cluster.x-k8s.io/move-hierarchy

    @property
    def api_version(self) -> str:
        return f"{self.group}/{self.version}" if self.group else self.version

    @property
    def group_kind(self) -> tuple[str, str]:
        return (self.group, self.kind)


CORE_KINDS = (
    KindInfo("", "v1", "Secret", "secrets"),
    KindInfo("", "v1", "ConfigMap", "configmaps"),
)


def kinds_from_crds(crds: Iterable[CustomResourceDefinition]) -> list[KindInfo]:
    """The Cluster API kinds among ``crds``, at their storage versions, sorted."""
    found: list[KindInfo] = []
    for crd in crds:
        spec = crd.spec
        labels = (crd.metadata.labels if crd.metadata else None) or {}
        if spec.group != CAPI_GROUP and not any(label in labels for label in _CRD_LABELS):
            continue
        storage = next((v for v in spec.versions if v.storage), spec.versions[0])
        status = bool(storage.subresources and storage.subresources.status is not None)
        found.append(
            KindInfo(
                spec.group,
                storage.name,
                spec.names.kind,
                spec.names.plural,
                spec.scope == "Namespaced",
                status,
                move=MOVE_LABEL in labels,
                move_hierarchy=MOVE_HIERARCHY_LABEL in labels,
            )
        )
    return sorted(found)


async def discover_kinds(client: AsyncClient) -> list[KindInfo]:
    """Every kind a move on this cluster considers (Cluster API CRDs, Secret, ConfigMap)."""
    with api_errors("list CustomResourceDefinitions"):
        crds = [crd async for crd in client.list(CustomResourceDefinition)]
    return [*kinds_from_crds(crds), *CORE_KINDS]
