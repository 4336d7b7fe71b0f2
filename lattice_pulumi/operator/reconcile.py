"""Converge one LatticeService: compile, apply, prune, report. Idempotent.

``ServiceReconciler.reconcile(key)`` reads the latest body from ``ClusterState``, compiles
it with the shared compiler (``compile_service`` over a context knowing every service of
the cluster), stamps ownership (``ownership.stamp``), applies what changed server-side
with one field manager (``applier``: unchanged objects are skipped, new names are checked
for objects we do not own), deletes what the service owned before and no longer generates (the
inventory: label plus owner reference), and writes the status (``status``) and an Event
when something changed. One reconcile per service runs at a time (a lock per key); the
body is re-read under the lock, so the newest spec always wins, and the generation taken
is noted in the state (``ClusterState.note_taken``) so the watch events of our own status
writes do not queue the service again.

Raises ``NotYet`` for what a retry may fix (``OwnershipConflict`` among them, reported as
Failed) and the compiler's ``LatticeError`` for a spec that cannot work as written; the
status says which in all cases.
"""

from __future__ import annotations

import asyncio
import datetime
import logging
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from lightkube.models.core_v1 import EventSource, ObjectReference
from lightkube.models.meta_v1 import ObjectMeta
from lightkube.resources.core_v1 import Event

from lattice_pulumi.compile.mesh import rule
from lattice_pulumi.compile.service import compile_service
from lattice_pulumi.errors import LatticeError, PolicyDenied, SpecErrors
from lattice_pulumi.kube import KubeError, NotFoundError, api_errors
from lattice_pulumi.kube.objects import ResourceCatalog, delete_object, patch_status
from lattice_pulumi.operator import ownership
from lattice_pulumi.operator.applier import Applier
from lattice_pulumi.operator.errors import NotYet, OwnershipConflict
from lattice_pulumi.operator.metrics import Metrics
from lattice_pulumi.operator.state import ClusterState
from lattice_pulumi.operator.status import Report, build_status, same_status
from lattice_pulumi.spec.service import LatticeService

__all__ = ["FIELD_MANAGER", "Outcome", "ServiceReconciler"]

FIELD_MANAGER = "lattice-operator"
COMPONENT = "lattice-operator"
APPLY_CONCURRENCY = 16  # requests in flight for the whole process
_log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Outcome:
    """What one successful reconcile did."""

    applied: int
    changed: int
    pruned: int


def _utc_now() -> str:
    return datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


class ServiceReconciler:
    """Compiles, applies and prunes LatticeServices; reports their status."""

    def __init__(
        self,
        state: ClusterState,
        catalog: ResourceCatalog,
        inventory: ownership.Inventory,
        metrics: Metrics,
        *,
        field_manager: str = FIELD_MANAGER,
        clock: Callable[[], str] = _utc_now,
        concurrency: int = APPLY_CONCURRENCY,
    ) -> None:
        self.state = state
        self.catalog = catalog
        self.inventory = inventory
        self.metrics = metrics
        self.field_manager = field_manager
        self.clock = clock
        self.applier = Applier(
            catalog,
            inventory,
            metrics,
            field_manager=field_manager,
            live_owners=state.service_uids,
            concurrency=concurrency,
        )
        self._locks: dict[str, asyncio.Lock] = {}

    async def reconcile(self, key: str) -> Outcome | None:
        """Converge ``key``; None when the service is gone."""
        lock = self._locks.setdefault(key, asyncio.Lock())
        async with lock:
            body = self.state.bodies.get(key)
            if body is None:
                return None
            self.state.note_taken(key, body)
            started = time.perf_counter()
            try:
                return await self._reconcile(key, body)
            except NotYet:
                self.metrics.failures.labels(kind="temporary").inc()
                raise
            except (KubeError, LatticeError):
                self.metrics.failures.labels(kind="permanent").inc()
                raise
            finally:
                self.metrics.reconciles.inc()
                self.metrics.duration.observe(time.perf_counter() - started)

    async def _reconcile(self, key: str, body: Mapping[str, Any]) -> Outcome:
        generation = int(body["metadata"].get("generation") or 0)
        status = body.get("status") or {}
        if status.get("observedGeneration") != generation and status.get("phase") != "Compiling":
            await self._report(body, Report("Compiling", "NewGeneration", "compiling", generation))
        try:
            service, objects = self._compile(key)
        except LatticeError as exc:
            await self._fail(body, exc, generation)
            raise
        missing = self.state.missing_providers(service)
        if missing:
            message = f"waiting for SecretProvider {', '.join(repr(m) for m in missing)}"
            await self._report(
                body, Report("Pending", "SecretProviderMissing", message, generation)
            )
            raise NotYet(message, reason="SecretProviderMissing", delay=30.0)
        try:
            outcome = await self._apply(body, objects)
        except OwnershipConflict as exc:
            await self._fail(body, exc, generation)
            raise
        except KubeError as exc:
            reason = "KindNotServed" if exc.status == 404 else "ApplyFailed"
            await self._report(body, Report("Pending", reason, str(exc), generation))
            raise NotYet(str(exc), reason=reason, delay=10.0) from exc
        deps = tuple(
            sorted(
                k for k in rule.declarations_of(service).callee_keys() if k in self.state.services
            )
        )
        message = f"{outcome.applied} objects applied"
        await self._report(body, Report("Ready", "Applied", message, generation, deps))
        if outcome.changed or outcome.pruned:
            await self._event(
                body,
                "Normal",
                "Applied",
                f"{message}, {outcome.changed} changed, {outcome.pruned} pruned",
            )
        return outcome

    def _compile(self, key: str) -> tuple[LatticeService, list[dict[str, Any]]]:
        invalid = self.state.invalid.get(key)
        if invalid is not None:
            raise invalid
        service = self.state.services[key]
        context, recorder = self.state.context_for(key)
        try:
            return service, compile_service(service, context)
        finally:
            self.state.note_compiled(key, recorder)

    async def _apply(self, body: Mapping[str, Any], objects: list[dict[str, Any]]) -> Outcome:
        uid = body["metadata"]["uid"]
        stamped = ownership.stamp(objects, body)
        wanted = {ownership.ref_of(o) for o in stamped}
        applied = await self.applier.apply(uid, stamped)
        pruned = 0
        for ref in sorted(set(self.inventory.owned(uid)) - wanted):
            if await delete_object(self.catalog, ref.as_object()):
                pruned += 1
            self.inventory.discard(uid, ref)
        return Outcome(len(stamped), applied.changed, pruned)

    async def _fail(self, body: Mapping[str, Any], exc: LatticeError, generation: int) -> None:
        reason = (
            "OwnershipConflict"
            if isinstance(exc, OwnershipConflict)
            else "InvalidSpec"
            if isinstance(exc, SpecErrors)
            else "PolicyDenied"
            if isinstance(exc, PolicyDenied)
            else "CompileError"
        )
        previous = (body.get("status") or {}).get("message")
        await self._report(body, Report("Failed", reason, str(exc), generation))
        if previous != str(exc):
            await self._event(body, "Warning", reason, str(exc))

    async def _report(self, body: Mapping[str, Any], report: Report) -> None:
        meta = body["metadata"]
        status = build_status(body.get("status"), report, self.clock())
        if same_status(body.get("status"), status):
            return
        try:
            await patch_status(
                self.catalog,
                body["apiVersion"],
                body["kind"],
                meta["name"],
                meta.get("namespace"),
                status,
            )
        except NotFoundError:
            return  # deleted meanwhile: nothing to report on
        body_status = self.state.bodies.get(f"{meta.get('namespace') or 'default'}/{meta['name']}")
        if body_status is not None:
            body_status["status"] = status  # the next reconcile sees what was written

    async def _event(self, body: Mapping[str, Any], kind: str, reason: str, message: str) -> None:
        meta = body["metadata"]
        now = datetime.datetime.now(datetime.UTC)
        event = Event(
            metadata=ObjectMeta(
                name=f"{meta['name']}.{time.time_ns():x}", namespace=meta.get("namespace")
            ),
            involvedObject=ObjectReference(
                apiVersion=body["apiVersion"],
                kind=body["kind"],
                name=meta["name"],
                namespace=meta.get("namespace"),
                uid=meta["uid"],
            ),
            reason=reason,
            message=message[:1024],
            type=kind,
            source=EventSource(component=COMPONENT),
            firstTimestamp=now,
            lastTimestamp=now,
            count=1,
        )
        try:
            with api_errors(f"post an event on {meta['name']}"):
                await self.catalog.client.create(event)
        except KubeError as exc:  # an event is best effort
            _log.warning("%s", exc)
