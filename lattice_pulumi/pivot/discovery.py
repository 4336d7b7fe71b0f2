"""Reading a move's objects from a cluster: what the mover lists, and where.

:func:`list_objects` lists every discovered kind in the move's namespace (everywhere
without one; cluster-scoped kinds always whole) and, as clusterctl does, the Secrets of the
namespaces where an infrastructure provider is installed (the ``Provider`` objects of
clusterctl's inventory, ``type: InfrastructureProvider``): a global identity's credentials
live there (CAPA reads ``AWSClusterStaticIdentity.spec.secretRef`` from its own namespace
and makes the identity the Secret's owner for ``clusterctl move``).

:func:`find_copies` lists the objects a previous run of a move created in the target (those
carrying ``pivot.lattice.dev/source-uid``), by source UID. Used by the mover.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterable

from lattice_pulumi.pivot.access import ClusterAccess
from lattice_pulumi.pivot.kinds import CORE_KINDS, KindInfo
from lattice_pulumi.pivot.objects import SOURCE_UID_ANNOTATION, Object

__all__ = ["INVENTORY", "find_copies", "list_objects", "provider_namespaces"]

INVENTORY = ("clusterctl.cluster.x-k8s.io", "Provider")
_INFRASTRUCTURE = "InfrastructureProvider"
_SECRET = next(info for info in CORE_KINDS if info.kind == "Secret")


async def provider_namespaces(source: ClusterAccess, kinds: Iterable[KindInfo]) -> list[str]:
    """Namespaces where clusterctl's inventory records an infrastructure provider."""
    inventory = next((info for info in kinds if info.group_kind == INVENTORY), None)
    if inventory is None:
        return []
    providers = await source.list(inventory, None)
    return sorted(
        {
            str((p.get("metadata") or {}).get("namespace") or "")
            for p in providers
            if p.get("type") == _INFRASTRUCTURE
        }
        - {""}
    )


async def list_objects(
    source: ClusterAccess, kinds: list[KindInfo], namespace: str | None
) -> list[Object]:
    """Every object of ``kinds`` a move of ``namespace`` (all when None) considers."""
    calls = [source.list(info, namespace) for info in kinds]
    if namespace:
        calls += [
            source.list(_SECRET, other)
            for other in await provider_namespaces(source, kinds)
            if other != namespace
        ]
    seen: set[str] = set()
    objects: list[Object] = []
    for listed in await asyncio.gather(*calls):
        for obj in listed:
            uid = str((obj.get("metadata") or {}).get("uid", ""))
            if uid not in seen:
                seen.add(uid)
                objects.append(obj)
    return objects


async def find_copies(
    target: ClusterAccess, kinds: Iterable[KindInfo], namespaces: Iterable[str]
) -> dict[str, Object]:
    """Objects of ``kinds`` in ``namespaces`` that a move created: source UID -> object."""
    wanted = [info for info in kinds if info.namespaced]
    lists = await asyncio.gather(
        *(target.list(info, namespace) for info in wanted for namespace in sorted(namespaces))
    )
    copies: dict[str, Object] = {}
    for listed in lists:
        for obj in listed:
            annotations = (obj.get("metadata") or {}).get("annotations") or {}
            if SOURCE_UID_ANNOTATION in annotations:
                copies[str(annotations[SOURCE_UID_ANNOTATION])] = obj
    return copies
