"""One cluster as the mover sees it: plain-dict reads and writes through lightkube.

:class:`ClusterAccess` resolves a lightkube resource class per kind (the typed classes for
Secret, ConfigMap and Namespace, generic ones for custom kinds), converts every answer to a
plain dict, translates errors to :class:`~lattice_pulumi.kube.KubeError` through
:func:`lattice_pulumi.kube.api_errors` and retries transient failures
(:mod:`lattice_pulumi.pivot.retry`). Nothing here decides what to move.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from lightkube import AsyncClient
from lightkube.generic_resource import create_global_resource, create_namespaced_resource
from lightkube.resources.core_v1 import ConfigMap, Namespace, Secret
from lightkube.types import PatchType

from lattice_pulumi.kube import NotFoundError, api_errors
from lattice_pulumi.pivot import retry
from lattice_pulumi.pivot.kinds import KindInfo
from lattice_pulumi.pivot.objects import Object, ObjectRef, ref_of

__all__ = ["ClusterAccess"]

_TYPED: dict[tuple[str, str], Any] = {
    ("v1", "Secret"): Secret,
    ("v1", "ConfigMap"): ConfigMap,
    ("v1", "Namespace"): Namespace,
}


def _as_dict(value: Any) -> Object:
    out = value.to_dict() if hasattr(value, "to_dict") else dict(value)
    return dict(out)


class ClusterAccess:
    """Reads and writes of one cluster, keyed by ``(apiVersion, kind)``."""

    def __init__(self, client: AsyncClient, name: str) -> None:
        self.client = client
        self.name = name  # "source", "target": starts every error message
        self._kinds: dict[tuple[str, str], KindInfo] = {}
        self._namespaces: set[str] = set()

    def register(self, kinds: list[KindInfo]) -> None:
        """Make these kinds (from discovery of this or the other cluster) addressable."""
        for info in kinds:
            self._kinds[(info.api_version, info.kind)] = info

    def kind_of(self, ref: ObjectRef) -> KindInfo | None:
        return self._kinds.get((ref.api_version, ref.kind))

    def _resource(self, api_version: str, kind: str) -> Any:
        typed = _TYPED.get((api_version, kind))
        if typed is not None:
            return typed
        info = self._kinds.get((api_version, kind))
        if info is None:
            raise NotFoundError(f"{self.name}: kind {api_version} {kind} is not known", status=404)
        make = create_namespaced_resource if info.namespaced else create_global_resource
        return make(info.group, info.version, info.kind, info.plural)

    def _body(self, obj: Mapping[str, Any]) -> Any:
        resource = self._resource(str(obj["apiVersion"]), str(obj["kind"]))
        return resource.from_dict(dict(obj)) if resource in _TYPED.values() else resource(obj)

    async def list(self, info: KindInfo, namespace: str | None) -> list[Object]:
        """Every object of one kind (in ``namespace``, or everywhere)."""
        resource = self._resource(info.api_version, info.kind)
        # lightkube: "*" lists a namespaced kind everywhere; a cluster-scoped kind takes None.
        where = (namespace or "*") if info.namespaced else None

        async def call() -> list[Object]:
            with api_errors(f"{self.name}: list {info.kind}"):
                items = [_as_dict(i) async for i in self.client.list(resource, namespace=where)]
            for item in items:  # list items carry no apiVersion/kind
                item.setdefault("apiVersion", info.api_version)
                item.setdefault("kind", info.kind)
            return items

        return await retry.with_retries(call, retry.READS, f"list {info.kind}")

    async def get(self, ref: ObjectRef) -> Object | None:
        """The object, or None when it does not exist."""
        resource = self._resource(ref.api_version, ref.kind)

        async def call() -> Object | None:
            try:
                with api_errors(f"{self.name}: get {ref}"):
                    found = await self.client.get(
                        resource, ref.name, namespace=ref.namespace or None
                    )
            except NotFoundError:
                return None
            out = _as_dict(found)
            out.setdefault("apiVersion", ref.api_version)
            out.setdefault("kind", ref.kind)
            return out

        return await retry.with_retries(call, retry.READS, f"get {ref}")

    async def create(self, obj: Mapping[str, Any], *, dry_run: bool = False) -> Object:
        """Create ``obj``; a 409 ``AlreadyExists`` is raised as KubeError(status=409)."""
        ref = ref_of(obj)

        async def call() -> Object:
            with api_errors(f"{self.name}: create {ref}"):
                made = await self.client.create(self._body(obj), dry_run=dry_run)
            return _as_dict(made)

        return await retry.with_retries(call, retry.WRITES, f"create {ref}")

    async def replace(self, obj: Mapping[str, Any]) -> Object:
        """Replace ``obj`` (its ``resourceVersion`` guards against lost updates)."""
        ref = ref_of(obj)

        async def call() -> Object:
            with api_errors(f"{self.name}: replace {ref}"):
                return _as_dict(await self.client.replace(self._body(obj)))

        return await retry.with_retries(call, retry.WRITES, f"replace {ref}")

    async def merge_patch(
        self, ref: ObjectRef, patch: Mapping[str, Any], *, status: bool = False
    ) -> None:
        """A JSON merge patch of the object (or of its status subresource)."""
        resource = self._resource(ref.api_version, ref.kind)
        target = resource.Status if status else resource

        async def call() -> None:
            with api_errors(f"{self.name}: patch {'status of ' if status else ''}{ref}"):
                await self.client.patch(
                    target,
                    ref.name,
                    dict(patch),
                    namespace=ref.namespace or None,
                    patch_type=PatchType.MERGE,
                )

        await retry.with_retries(call, retry.WRITES, f"patch {ref}")

    async def delete(self, ref: ObjectRef) -> None:
        """Delete the object; one already gone is fine."""
        resource = self._resource(ref.api_version, ref.kind)

        async def call() -> None:
            try:
                with api_errors(f"{self.name}: delete {ref}"):
                    await self.client.delete(resource, ref.name, namespace=ref.namespace or None)
            except NotFoundError:
                return

        await retry.with_retries(call, retry.WRITES, f"delete {ref}")

    async def ensure_namespace(self, name: str) -> None:
        """Create the namespace unless it is known to exist."""
        if not name or name in self._namespaces:
            return
        ref = ObjectRef("v1", "Namespace", "", name)
        if await self.get(ref) is None:
            body = {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": name}}
            try:
                await self.create(body)
            except Exception as error:  # raced by another writer: fine if it exists now
                if await self.get(ref) is None:
                    raise error
        self._namespaces.add(name)
