"""The parent-side reads and writes of child provisioning, through ``lattice_pulumi.kube``.

``ParentAccess`` wraps the operator's client and resource catalog: apply and prune the
child's objects (owner label, see ``objects``), read the Cluster API ``Cluster`` phase and
the kubeconfig Secret, read and write the operator's Secrets, delete the emptied
``capi-<cluster>`` namespace after the pivot. Every failure is a ``KubeError``.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from lattice_pulumi.kube import KubeError, NotFoundError, api_errors
from lattice_pulumi.kube.objects import ResourceCatalog, apply_object, delete_object
from lattice_pulumi.operator.children import objects
from lattice_pulumi.operator.ownership import OWNER_LABEL, ObjectRef, ref_of

__all__ = ["CLUSTER_API_VERSION", "ParentAccess"]

CLUSTER_API_VERSION = "cluster.x-k8s.io/v1beta2"


class ParentAccess:
    """The parent cluster, as child provisioning reads and writes it."""

    def __init__(self, catalog: ResourceCatalog, field_manager: str) -> None:
        self.catalog = catalog
        self.field_manager = field_manager

    async def get(
        self, api_version: str, kind: str, namespace: str | None, name: str
    ) -> dict[str, Any] | None:
        """One object as a dict, ``None`` when it (or its kind) does not exist."""
        try:
            served = await self.catalog.kind(api_version, kind)
        except KubeError as exc:
            if exc.status == 404:
                return None
            raise
        try:
            with api_errors(f"read {kind} {namespace or ''}/{name}"):
                found = await self.catalog.client.get(
                    served.resource, name, namespace=namespace if served.namespaced else None
                )
        except NotFoundError:
            return None
        body = found.to_dict() if hasattr(found, "to_dict") else found
        return {"apiVersion": api_version, "kind": kind, **dict(body)}

    async def apply_all(self, wanted: Iterable[Mapping[str, Any]]) -> int:
        """Server-side apply every object, in order (namespace first); the count."""
        count = 0
        for obj in wanted:
            await apply_object(self.catalog, obj, self.field_manager)
            count += 1
        return count

    async def prune(self, wanted: list[dict[str, Any]], namespace: str, owner_uid: str) -> int:
        """Delete objects of ``owner_uid`` in ``namespace`` that ``wanted`` no longer has."""
        keep = {ref_of(o) for o in wanted}
        kinds = sorted({(o["apiVersion"], o["kind"]) for o in wanted if o["kind"] != "Namespace"})
        pruned = 0
        for api_version, kind in kinds:
            for ref in await self._owned(api_version, kind, namespace, owner_uid):
                if ref not in keep and await delete_object(self.catalog, ref.as_object()):
                    pruned += 1
        return pruned

    async def _owned(
        self, api_version: str, kind: str, namespace: str, owner_uid: str
    ) -> list[ObjectRef]:
        served = await self.catalog.kind(api_version, kind)
        with api_errors(f"list {kind} in {namespace}"):
            return [
                ref_of({"apiVersion": api_version, "kind": kind, **_as_dict(item)})
                async for item in self.catalog.client.list(
                    served.resource, namespace=namespace, labels={OWNER_LABEL: owner_uid}
                )
            ]

    async def cluster_phase(self, cluster: str) -> str:
        """The Cluster API ``Cluster``'s ``status.phase`` ("" while it has none)."""
        found = await self.get(
            CLUSTER_API_VERSION, "Cluster", objects.capi_namespace(cluster), cluster
        )
        return str(((found or {}).get("status") or {}).get("phase") or "")

    async def kubeconfig(self, cluster: str) -> bytes | None:
        """The ``value`` of the child's ``<cluster>-kubeconfig`` Secret, once written."""
        secret = await self.get(
            "v1", "Secret", objects.capi_namespace(cluster), objects.kubeconfig_secret_name(cluster)
        )
        return None if secret is None else objects.secret_value(secret, "value")

    async def kubeconfig_copy(self, cluster: str) -> bytes | None:
        secret = await self.get(
            "v1",
            "Secret",
            objects.KUBECONFIG_COPY_NAMESPACE,
            objects.kubeconfig_copy_name(cluster),
        )
        return None if secret is None else objects.secret_value(secret, "value")

    async def delete(self, api_version: str, kind: str, namespace: str | None, name: str) -> bool:
        meta = {"name": name, **({"namespace": namespace} if namespace else {})}
        return await delete_object(
            self.catalog, {"apiVersion": api_version, "kind": kind, "metadata": meta}
        )


def _as_dict(item: Any) -> dict[str, Any]:
    return dict(item.to_dict()) if hasattr(item, "to_dict") else dict(item)
