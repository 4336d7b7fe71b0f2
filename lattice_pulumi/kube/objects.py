"""Apply, list and delete objects of any kind given as plain dicts, through lightkube.

Compilers return plain dicts of many kinds (core, apps, Cilium, Istio, Gateway API, ...).
``ResourceCatalog`` finds each kind's plural and scope once per API group version through
discovery (``GET /api/v1``, ``GET /apis/<group>/<version>``) and makes lightkube generic
resource classes for them, so every kind goes through the same calls: server-side apply
with one field manager (:func:`apply_object`), label-selected lists, deletes, and status
patches. A kind the server does not serve is a :class:`UnservedKind` (a ``KubeError``,
HTTP 404): for a controller that means "not yet" (its CRD is not installed).

Used by the operator; errors come out as ``KubeError`` only.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Mapping
from dataclasses import dataclass
from typing import Any

import httpx2
from lightkube import AsyncClient
from lightkube.core.exceptions import LoadResourceError
from lightkube.core.resource_registry import resource_registry
from lightkube.generic_resource import create_global_resource, create_namespaced_resource
from lightkube.types import PatchType

from lattice_pulumi.kube import KubeError, NotFoundError, api_errors

__all__ = [
    "Kind",
    "ResourceCatalog",
    "UnservedKind",
    "apply_object",
    "delete_object",
    "iter_objects",
    "patch_status",
]


class UnservedKind(KubeError):
    """The API server does not serve this apiVersion/kind (its CRD is missing)."""


@dataclass(frozen=True)
class Kind:
    """One served kind: where it lives and the lightkube class that talks to it."""

    api_version: str
    kind: str
    plural: str
    namespaced: bool
    resource: Any  # a lightkube generic resource class


class ResourceCatalog:
    """Kinds the API server serves, discovered once per group version (cached)."""

    def __init__(self, client: AsyncClient) -> None:
        self.client = client
        self._versions: dict[str, dict[str, Kind]] = {}
        self._lock = asyncio.Lock()

    async def kind(self, api_version: str, kind: str) -> Kind:
        """The served ``kind`` of ``api_version``; UnservedKind when there is none."""
        kinds = self._versions.get(api_version)
        if kinds is None or kind not in kinds:
            async with self._lock:
                kinds = await self._discover(api_version)
        found = kinds.get(kind)
        if found is None:
            raise UnservedKind(
                f"{kind} ({api_version}) is not served by the API server", status=404
            )
        return found

    def forget(self, api_version: str) -> None:
        """Drop what is known of ``api_version`` (a CRD appeared or went away)."""
        self._versions.pop(api_version, None)

    async def _discover(self, api_version: str) -> dict[str, Kind]:
        path = "/api/v1" if api_version == "v1" else f"/apis/{api_version}"
        http: httpx2.AsyncClient = self.client._client._client  # lightkube has no discovery call
        with api_errors(f"discover {api_version}"):
            response = await http.get(path)
            if response.status_code == 404:
                self._versions[api_version] = {}
                return {}
            response.raise_for_status()
            listing = response.json()
        group, _, version = api_version.rpartition("/")
        kinds: dict[str, Kind] = {}
        for entry in listing.get("resources", []):
            if "/" in entry["name"]:  # subresources (status, scale)
                continue
            resource = _resource_class(group, version, entry["kind"], entry["name"], entry)
            kinds[entry["kind"]] = Kind(
                api_version, entry["kind"], entry["name"], entry["namespaced"], resource
            )
        self._versions[api_version] = kinds
        return kinds


def _resource_class(group: str, version: str, kind: str, plural: str, entry: Any) -> Any:
    """lightkube's own class for a built-in kind, a generic one (made once) otherwise."""
    api_version = f"{group}/{version}" if group else version
    try:
        return resource_registry.load(api_version, kind)
    except LoadResourceError:
        make = create_namespaced_resource if entry["namespaced"] else create_global_resource
        return make(group, version, kind, plural)


def _identity(obj: Mapping[str, Any]) -> str:
    meta = obj["metadata"]
    where = f"{meta['namespace']}/" if meta.get("namespace") else ""
    return f"{obj['kind']} {where}{meta['name']}"


async def apply_object(
    catalog: ResourceCatalog, obj: Mapping[str, Any], field_manager: str
) -> dict[str, Any]:
    """Server-side apply ``obj`` (forced: this manager owns the fields it sets)."""
    kind = await catalog.kind(obj["apiVersion"], obj["kind"])
    meta = obj["metadata"]
    with api_errors(f"apply {_identity(obj)}"):
        result = await catalog.client.patch(
            kind.resource,
            meta["name"],
            dict(obj),
            namespace=meta.get("namespace") if kind.namespaced else None,
            patch_type=PatchType.APPLY,
            field_manager=field_manager,
            force=True,
        )
    return dict(result.to_dict()) if hasattr(result, "to_dict") else dict(result)


async def delete_object(catalog: ResourceCatalog, obj: Mapping[str, Any]) -> bool:
    """Delete ``obj`` (by kind, namespace and name); False when it was already gone."""
    kind = await catalog.kind(obj["apiVersion"], obj["kind"])
    meta = obj["metadata"]
    try:
        with api_errors(f"delete {_identity(obj)}"):
            await catalog.client.delete(
                kind.resource,
                meta["name"],
                namespace=meta.get("namespace") if kind.namespaced else None,
            )
    except NotFoundError:
        return False
    return True


async def iter_objects(
    catalog: ResourceCatalog, api_version: str, kind: str, labels: Mapping[str, Any]
) -> AsyncIterator[dict[str, Any]]:
    """Every object of ``kind`` in every namespace matching ``labels`` (lightkube syntax)."""
    served = await catalog.kind(api_version, kind)
    namespace = "*" if served.namespaced else None
    with api_errors(f"list {kind}"):
        async for item in catalog.client.list(
            served.resource, namespace=namespace, labels=dict(labels)
        ):
            body = item.to_dict() if hasattr(item, "to_dict") else item
            yield {"apiVersion": api_version, "kind": kind, **dict(body)}


async def patch_status(
    catalog: ResourceCatalog,
    api_version: str,
    kind: str,
    name: str,
    namespace: str | None,
    status: Mapping[str, Any],
) -> None:
    """Merge ``status`` into the status subresource of one object."""
    served = await catalog.kind(api_version, kind)
    http: httpx2.AsyncClient = catalog.client._client._client
    group_path = "/api/v1" if api_version == "v1" else f"/apis/{api_version}"
    where = f"/namespaces/{namespace}" if served.namespaced and namespace else ""
    path = f"{group_path}{where}/{served.plural}/{name}/status"
    with api_errors(f"update the status of {kind} {namespace or ''}/{name}"):
        response = await http.patch(
            path,
            json={"status": dict(status)},
            headers={"Content-Type": PatchType.MERGE.value},
        )
        if response.status_code == 404:
            raise NotFoundError(f"{kind} {namespace}/{name} is gone", status=404)
        response.raise_for_status()
