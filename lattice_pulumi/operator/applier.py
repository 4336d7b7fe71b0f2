"""Server-side apply of one service's generated objects: only what changed, in parallel.

``Applier.apply(uid, stamped)`` is the reconciler's one write path:

1. objects whose digest equals the one last applied (and, when read at start, whose live
   body still holds every wanted field: ``Inventory.up_to_date``) are skipped;
2. objects the inventory does not know yet are read first: one that exists without our
   marks (``ownership.foreign_owner``) is a conflict, and then nothing is applied
   (``OwnershipConflict`` names every such object);
3. the rest are applied server-side (forced, one field manager) with at most
   ``concurrency`` requests in flight across every reconcile of the process (one
   semaphore), so a resync of a thousand services does not flood the API server.

Requests go straight through the lightkube client's HTTP client (``kube.http_client``):
the answer is read as JSON for its resourceVersion, never turned into models, which costs
more CPU than the apply itself.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from lattice_pulumi.kube import KubeError, NotFoundError, api_errors, http_client
from lattice_pulumi.kube.objects import ResourceCatalog
from lattice_pulumi.operator import ownership
from lattice_pulumi.operator.errors import OwnershipConflict
from lattice_pulumi.operator.metrics import Metrics

__all__ = ["Applied", "Applier"]

_APPLY_PATCH = "application/apply-patch+yaml"  # JSON is YAML: the body is sent as JSON


@dataclass(frozen=True)
class Applied:
    """What one ``Applier.apply`` did: objects wanted, applied, whose version changed."""

    wanted: int
    applied: int
    changed: int


class Applier:
    """Applies stamped objects for their owners, skipping what is already in place."""

    def __init__(
        self,
        catalog: ResourceCatalog,
        inventory: ownership.Inventory,
        metrics: Metrics,
        *,
        field_manager: str,
        live_owners: Callable[[], set[str]],
        concurrency: int = 16,
    ) -> None:
        self.catalog = catalog
        self.inventory = inventory
        self.metrics = metrics
        self.field_manager = field_manager
        self.live_owners = live_owners
        self._gate = asyncio.Semaphore(concurrency)

    async def apply(self, uid: str, stamped: list[dict[str, Any]]) -> Applied:
        """Apply what changed of ``stamped``; ``OwnershipConflict`` before any write."""
        pending = [o for o in stamped if not self.inventory.up_to_date(uid, o)]
        self.metrics.objects.labels(result="skipped").inc(len(stamped) - len(pending))
        known = self.inventory.owned(uid)
        unknown = [o for o in pending if ownership.ref_of(o) not in known]
        found = await asyncio.gather(*(self._conflict(uid, o) for o in unknown))
        conflicts = [c for c in found if c is not None]
        if conflicts:
            raise OwnershipConflict(conflicts)
        changed = await asyncio.gather(*(self._apply_one(uid, o) for o in pending))
        self.metrics.objects.labels(result="applied").inc(len(pending))
        return Applied(len(stamped), len(pending), sum(changed))

    async def _apply_one(self, uid: str, obj: dict[str, Any]) -> bool:
        async with self._gate:
            live = await self._request("PATCH", obj, "apply", json.dumps(obj))
        version = str((live or {}).get("metadata", {}).get("resourceVersion", ""))
        digest = obj["metadata"]["annotations"][ownership.HASH_ANNOTATION]
        return self.inventory.record(uid, ownership.ref_of(obj), version, digest)

    async def _conflict(self, uid: str, obj: Mapping[str, Any]) -> str | None:
        async with self._gate:
            try:
                live = await self._request("GET", obj, "read")
            except NotFoundError:
                return None
        why = ownership.foreign_owner(live or {}, uid, self.live_owners())
        return None if why is None else f"{ownership.ref_of(obj)} exists and {why}"

    async def _request(
        self, method: str, obj: Mapping[str, Any], action: str, body: str | None = None
    ) -> dict[str, Any] | None:
        kind = await self.catalog.kind(obj["apiVersion"], obj["kind"])
        meta = obj["metadata"]
        group = "/api/v1" if obj["apiVersion"] == "v1" else f"/apis/{obj['apiVersion']}"
        namespace = meta.get("namespace") if kind.namespaced else None
        where = f"/namespaces/{namespace}" if namespace else ""
        path = f"{group}{where}/{kind.plural}/{meta['name']}"
        ref = ownership.ref_of(obj)
        with api_errors(f"{action} {ref}"):
            if body is None:
                response = await http_client(self.catalog.client).request(method, path)
            else:
                response = await http_client(self.catalog.client).request(
                    method,
                    path,
                    content=body.encode(),
                    params={"fieldManager": self.field_manager, "force": "true"},
                    headers={"Content-Type": _APPLY_PATCH},
                )
        if response.status_code == 404:
            raise NotFoundError(f"{action} {ref}: HTTP 404 NotFound", status=404)
        if response.status_code >= 400:
            raise _status_error(f"{action} {ref}", response.status_code, response.text)
        result: dict[str, Any] = response.json()
        return result


def _status_error(action: str, code: int, text: str) -> KubeError:
    """A KubeError from a Kubernetes Status answer (reason and message when present)."""
    try:
        status = json.loads(text)
    except ValueError:
        status = {}
    reason = str(status.get("reason") or "")
    message = str(status.get("message") or text[:300] or "no details")
    head = f"{action}: HTTP {code}" + (f" {reason}" if reason else "")
    return KubeError(f"{head}: {message}", status=code, reason=reason)
