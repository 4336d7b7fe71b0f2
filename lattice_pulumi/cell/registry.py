"""The cell's registry of child clusters: connection, versions, last heartbeat, health, subtree.

Written by the cell's gRPC service (``lattice_pulumi.cell.service``) as messages arrive; read
by the operator and CLI, and by a parent's own agent, which reports
:meth:`ClusterRegistry.subtree_snapshot` upward so every level sees the whole hierarchy
below it. Runs on one event loop; not thread-safe.
"""

from __future__ import annotations

import asyncio
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field

from lattice_pulumi.protocol import pb

__all__ = ["ClusterRecord", "ClusterRegistry"]

_EVENTS_KEPT = 100


def _now_ms() -> int:
    return int(time.time() * 1000)


@dataclass
class ClusterRecord:
    """What the cell knows about one directly connected child."""

    name: str
    connected: bool = False
    session_id: str = ""
    sessions: int = 0
    protocol: str = ""
    agent_version: str = ""
    kubernetes_version: str = ""
    provider: str = ""
    role: str = ""
    first_seen_ms: int = 0
    certificate_fingerprint: str = ""
    state: pb.ClusterState = pb.CLUSTER_STATE_UNSPECIFIED
    health: pb.ClusterHealth = field(default_factory=pb.ClusterHealth)
    heartbeats: int = 0
    last_heartbeat_ms: int = 0
    subtree: tuple[pb.SubtreeCluster, ...] = ()
    events: deque[pb.Event] = field(default_factory=lambda: deque(maxlen=_EVENTS_KEPT))
    labels: dict[str, str] = field(default_factory=dict)

    def summary(self, parent: str) -> pb.SubtreeCluster:
        return pb.SubtreeCluster(
            name=self.name,
            parent=parent,
            state=self.state,
            health=self.health,
            last_heartbeat_unix_ms=self.last_heartbeat_ms,
            connected=self.connected,
            kubernetes_version=self.kubernetes_version,
            provider=self.provider,
            role=self.role,
            agent_version=self.agent_version,
            first_seen_unix_ms=self.first_seen_ms,
            labels=self.labels,
        )


class ClusterRegistry:
    """Every child that has ever said hello to this cell, by name."""

    def __init__(self, name: str) -> None:
        self.name = name
        self._records: dict[str, ClusterRecord] = {}
        self._changed = asyncio.Event()

    def get(self, name: str) -> ClusterRecord | None:
        return self._records.get(name)

    def get_clusters(self) -> list[ClusterRecord]:
        return [self._records[k] for k in sorted(self._records)]

    def route_to(self, name: str) -> tuple[str, pb.SubtreeCluster | None] | None:
        """The direct child through which ``name`` is reached and, for a cluster further
        down, what was reported about it; ``None`` when ``name`` is not below this cell."""
        if name in self._records:
            return name, None
        for record in self.get_clusters():
            for entry in record.subtree:
                if entry.name == name:
                    return record.name, entry
        return None

    def labels_of(self, name: str) -> dict[str, str] | None:
        """The labels ``name`` declared (directly or as reported from below), if known."""
        route = self.route_to(name)
        if route is None:
            return None
        child, entry = route
        return dict(entry.labels) if entry is not None else dict(self._records[child].labels)

    def subtree_snapshot(self) -> pb.SubtreeState:
        """Every cluster below this cell: direct children, then what each reported below it."""
        out = pb.SubtreeState()
        for record in self.get_clusters():
            out.clusters.append(record.summary(self.name))
            out.clusters.extend(record.subtree)
        return out

    async def wait_until(
        self, predicate: Callable[[ClusterRegistry], bool], timeout: float
    ) -> None:
        """Wait until ``predicate(self)`` holds; ``TimeoutError`` after ``timeout`` seconds."""
        async with asyncio.timeout(timeout):
            while not predicate(self):
                await self._changed.wait()

    def connected(
        self, name: str, hello: pb.Hello, session_id: str, fingerprint: str
    ) -> ClusterRecord:
        record = self._records.setdefault(name, ClusterRecord(name))
        record.connected = True
        record.session_id = session_id
        record.sessions += 1
        record.protocol = f"{hello.protocol.major}.{hello.protocol.minor}"
        record.agent_version = hello.agent_version
        record.kubernetes_version = hello.kubernetes_version
        record.provider = hello.provider
        record.role = hello.role or "leaf"
        record.first_seen_ms = record.first_seen_ms or _now_ms()
        record.certificate_fingerprint = fingerprint
        record.labels = dict(hello.labels)
        self._notify()
        return record

    def disconnected(self, name: str, session_id: str) -> None:
        record = self._records.get(name)
        if record is not None and record.session_id == session_id:
            record.connected = False
            self._notify()

    def heartbeat(self, name: str, beat: pb.Heartbeat) -> None:
        record = self._records[name]
        record.state = beat.state
        record.health = pb.ClusterHealth()
        record.health.CopyFrom(beat.health)
        record.heartbeats += 1
        record.last_heartbeat_ms = _now_ms()
        self._notify()

    def subtree(self, name: str, state: pb.SubtreeState) -> None:
        """Replace what ``name`` reported below itself; entries claiming ``name`` are dropped."""
        kept: list[pb.SubtreeCluster] = []
        for entry in state.clusters:
            if entry.name in (name, self.name):
                continue
            copy = pb.SubtreeCluster()
            copy.CopyFrom(entry)
            kept.append(copy)
        self._records[name].subtree = tuple(kept)
        self._notify()

    def event(self, name: str, event: pb.Event) -> None:
        copy = pb.Event()
        copy.CopyFrom(event)
        self._records[name].events.append(copy)
        self._notify()

    def _notify(self) -> None:
        # Wake every current waiter; later waiters wait on a fresh event.
        self._changed.set()
        self._changed = asyncio.Event()
