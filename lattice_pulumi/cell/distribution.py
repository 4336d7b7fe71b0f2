"""The cell's distributor: watch the distributed kinds here, hand each child its set.

:class:`Distributor` watches CedarPolicy, CloudProvider and SecretProvider in the cell's own
API server (list, then watch from the list's resourceVersion; relisted after any break) and
keeps, for every connected child, the set :mod:`lattice_pulumi.cell.selection` picks for it.
It sends a child one ``SyncResources`` per kind (the full set, so the agent prunes what left
it) when the set changed, when the child's session is new (a reconnect resyncs everything),
after a failure or a ``Failed`` problem (retried every ``retry_interval``) and every
``resync_interval`` (a conflict that was cleared there, or a hand edit, is corrected without
a change here).

What each child answered is kept in :attr:`Distributor.reports`: applied, unchanged and
deleted counts and the problems, conflicts first, as the child's agent reported them (a local
object holding a distributed name is kept there and shows up here). Used by the parent's
operator process (``lattice cell serve``) and the fleet tests; errors are logged, never fatal.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import json
import logging
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from lightkube import AsyncClient

from lattice_pulumi import kube
from lattice_pulumi.cell.errors import CellError
from lattice_pulumi.cell.selection import NotDistributable, distributed_copy, wanted_by
from lattice_pulumi.cell.server import CellServer
from lattice_pulumi.kube import objects
from lattice_pulumi.protocol import pb
from lattice_pulumi.protocol.distribution import API_VERSION, DISTRIBUTED_KINDS

__all__ = ["ChildReport", "Distributor", "KindReport"]

log = logging.getLogger(__name__)

Key = tuple[str, str, str]  # (kind, namespace, name)


@dataclass
class KindReport:
    """What a child answered to the last SyncResources of one kind."""

    sent: int = 0
    applied: int = 0
    unchanged: int = 0
    deleted: int = 0
    problems: list[pb.SyncProblem] = field(default_factory=list)
    error: str = ""


@dataclass
class ChildReport:
    """The last sync of one child: its session, the sets sent, the answers per kind."""

    session_id: str = ""
    sent: dict[str, bytes] = field(default_factory=dict)  # kind -> sha256 of the set sent
    kinds: dict[str, KindReport] = field(default_factory=dict)
    synced_at: float = 0.0  # monotonic seconds of the last complete sync
    failed_at: float = 0.0
    syncs: int = 0

    def conflicts(self) -> list[pb.SyncProblem]:
        return [p for k in self.kinds.values() for p in k.problems if p.reason == "Conflict"]


class Distributor:
    """Runs beside a :class:`CellServer`; :meth:`start` after it, :meth:`stop` before it."""

    def __init__(
        self,
        cell: CellServer,
        client: AsyncClient,
        *,
        resync_interval: float = 60.0,
        retry_interval: float = 2.0,
        tick: float = 0.2,
        request_timeout: float = 30.0,
    ) -> None:
        self.cell = cell
        self.catalog = objects.ResourceCatalog(client)
        self.resync_interval = resync_interval
        self.retry_interval = retry_interval
        self.tick = tick
        self.request_timeout = request_timeout
        self.reports: dict[str, ChildReport] = {}
        self.skipped: dict[Key, str] = {}  # objects not distributable, and why
        self._sources: dict[Key, dict[str, Any]] = {}
        self._listed: set[str] = set()  # kinds listed at least once (or not served here)
        # per source: its resourceVersion and its encoded copy, or why it cannot go
        self._copies: dict[Key, tuple[str, bytes | NotDistributable]] = {}
        self._wake = asyncio.Event()
        self._tasks: list[asyncio.Task[None]] = []

    async def start(self) -> None:
        if self._tasks:
            raise CellError("the distributor is already running")
        self._tasks = [asyncio.create_task(self._watch(kind)) for kind in DISTRIBUTED_KINDS]
        self._tasks.append(asyncio.create_task(self._sync_loop()))

    async def stop(self) -> None:
        tasks, self._tasks = self._tasks, []
        for task in tasks:
            task.cancel()
        for task in tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task

    # ------------------------------------------------------------------ what is here

    async def _watch(self, kind: str) -> None:
        while True:
            try:
                served = await self.catalog.kind(API_VERSION, kind)
                version = await self._relist(served)
                async for change, obj in self.catalog.client.watch(
                    served.resource, namespace="*", resource_version=version
                ):
                    self._record(kind, change, _as_dict(obj, kind))
            except asyncio.CancelledError:
                raise
            except objects.UnservedKind:
                self._listed.add(kind)  # none here; the CRD may come later
                self.catalog.forget(API_VERSION)
            except Exception as exc:  # a broken watch is relisted, never fatal
                log.warning("watch of %s ended: %s", kind, exc)
            await asyncio.sleep(self.retry_interval)

    async def _relist(self, served: objects.Kind) -> str:
        http = kube.http_client(self.catalog.client)
        with kube.api_errors(f"list {served.kind}"):
            response = await http.get(f"/apis/{API_VERSION}/{served.plural}")
            response.raise_for_status()
            listing = response.json()
        items = {
            _key(served.kind, item): {"apiVersion": API_VERSION, "kind": served.kind, **item}
            for item in listing.get("items", [])
        }
        for key in [k for k in self._sources if k[0] == served.kind]:
            if key not in items:
                del self._sources[key]
        self._sources.update(items)
        self._listed.add(served.kind)
        self._wake.set()
        return str(listing["metadata"]["resourceVersion"])

    def _record(self, kind: str, change: str, obj: dict[str, Any]) -> None:
        key = _key(kind, obj)
        if change == "DELETED":
            self._sources.pop(key, None)
        else:
            self._sources[key] = obj
        self._wake.set()

    # ------------------------------------------------------------------ what goes down

    def desired_for(self, labels: Mapping[str, str]) -> dict[str, list[bytes]]:
        """Per kind, the objects (JSON) a child with ``labels`` gets now (name order)."""
        out: dict[str, list[bytes]] = {kind: [] for kind in DISTRIBUTED_KINDS}
        skipped: dict[Key, str] = {}
        for key in sorted(self._sources):
            body = self._sources[key]
            try:
                if wanted_by(body, labels):
                    out[key[0]].append(self._copy(key, body))
            except NotDistributable as exc:
                skipped[key] = str(exc)
        for key, why in skipped.items():
            if self.skipped.get(key) != why:
                log.warning("not distributed: %s", why)
        self.skipped = skipped
        for key in [k for k in self._copies if k not in self._sources]:
            del self._copies[key]
        return out

    def _copy(self, key: Key, body: Mapping[str, Any]) -> bytes:
        """The encoded copy of ``body``, made once per resourceVersion."""
        version = str(body.get("metadata", {}).get("resourceVersion", ""))
        cached = self._copies.get(key)
        if cached is None or cached[0] != version or not version:
            try:
                made: bytes | NotDistributable = _encode(
                    distributed_copy(body, self.cell.config.name)
                )
            except NotDistributable as exc:
                made = exc
            cached = self._copies[key] = (version, made)
        if isinstance(cached[1], NotDistributable):
            raise cached[1]
        return cached[1]

    async def _sync_loop(self) -> None:
        while True:
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(self.tick):
                    await self._wake.wait()
            self._wake.clear()
            if len(self._listed) < len(DISTRIBUTED_KINDS):
                continue  # an empty set sent now would prune every child
            children = [
                (name, record)
                for name in self.cell.connected()
                if (record := self.cell.registry.get(name)) is not None
            ]
            await asyncio.gather(
                *(self._sync_child(n, r.session_id, r.labels) for n, r in children)
            )

    async def _sync_child(self, name: str, session_id: str, labels: Mapping[str, str]) -> None:
        report = self.reports.setdefault(name, ChildReport())
        encoded = self.desired_for(labels)
        digests = {kind: _digest(items) for kind, items in encoded.items()}
        now = time.monotonic()
        fresh = report.session_id == session_id and report.sent == digests and not report.failed_at
        if fresh and now - report.synced_at < self.resync_interval:
            return
        if report.failed_at and now - report.failed_at < self.retry_interval:
            return
        failed = False
        known = {(p.kind, p.namespace, p.name) for p in report.conflicts()}
        for kind in DISTRIBUTED_KINDS:
            answer = await self._send(name, kind, encoded[kind])
            previous = report.kinds.get(kind)
            if answer.error and (previous is None or previous.error != answer.error):
                log.warning("distribution of %s to %s failed: %s", kind, name, answer.error)
            report.kinds[kind] = answer
            failed = (
                failed or bool(answer.error) or any(p.reason == "Failed" for p in answer.problems)
            )
        report.session_id, report.sent = session_id, digests
        report.failed_at = time.monotonic() if failed else 0.0
        report.synced_at = time.monotonic()
        report.syncs += 1
        for problem in report.conflicts():
            if (problem.kind, problem.namespace, problem.name) not in known:
                log.warning("distribution to %s: %s", name, problem.message)

    async def _send(self, cluster: str, kind: str, resources: list[bytes]) -> KindReport:
        command = pb.CellCommand(sync_resources=pb.SyncResources(kind=kind, resources=resources))
        try:
            reply = await self.cell.request(cluster, command, timeout=self.request_timeout)
        except CellError as exc:
            return KindReport(sent=len(resources), error=str(exc))
        if not reply.ok:
            return KindReport(sent=len(resources), error=reply.error)
        applied = reply.apply
        return KindReport(
            sent=len(resources),
            applied=applied.applied,
            unchanged=applied.unchanged,
            deleted=applied.deleted,
            problems=list(applied.problems),
        )


def _key(kind: str, obj: Mapping[str, Any]) -> Key:
    meta = obj.get("metadata", {})
    return kind, str(meta.get("namespace", "")), str(meta.get("name", ""))


def _as_dict(obj: Any, kind: str) -> dict[str, Any]:
    body = obj.to_dict() if hasattr(obj, "to_dict") else dict(obj)
    return {"apiVersion": API_VERSION, "kind": kind, **dict(body)}


def _digest(items: list[bytes]) -> bytes:
    hashed = hashlib.sha256()
    for item in items:
        hashed.update(len(item).to_bytes(8, "big") + item)
    return hashed.digest()


def _encode(obj: Mapping[str, Any]) -> bytes:
    return json.dumps(obj, sort_keys=True, separators=(",", ":")).encode()
