"""Where the agent's heartbeats come from: a source of cluster state and health.

:class:`StatusHolder` is the plain in-memory source: whatever watches the cluster (the
operator, ``agent.health.HealthWatcher``) writes into it and the agent reads it on each
heartbeat. Anything with the same ``heartbeat()`` method can replace it.
"""

from __future__ import annotations

import time
from collections.abc import Iterable
from typing import Protocol

from lattice_pulumi.protocol import pb

__all__ = ["StatusHolder", "StatusSource"]


class StatusSource(Protocol):
    """Gives the agent the current state and health of its cluster."""

    def heartbeat(self) -> pb.Heartbeat: ...


class StatusHolder:
    """The latest known state and health, updated by whoever watches the cluster."""

    def __init__(self) -> None:
        self.state: pb.ClusterState = pb.CLUSTER_STATE_PROVISIONING
        self.health = pb.ClusterHealth()
        # As read from the API server ("" until known); the agent's Hello prefers it to
        # AgentConfig.kubernetes_version, so a reconnect after an upgrade reports the new one.
        self.kubernetes_version = ""

    def update(
        self,
        state: pb.ClusterState,
        *,
        control_plane: tuple[int, int],
        workers: tuple[int, int],
        conditions: Iterable[pb.Condition] = (),
        pools: Iterable[pb.NodePool] = (),
    ) -> None:
        """Record ``state`` with ``(ready, total)`` node counts, conditions and pools."""
        self.state = state
        self.health = pb.ClusterHealth(
            control_plane=pb.NodeCounts(ready=control_plane[0], total=control_plane[1]),
            workers=pb.NodeCounts(ready=workers[0], total=workers[1]),
            conditions=list(conditions),
            pools=list(pools),
        )

    def heartbeat(self) -> pb.Heartbeat:
        return pb.Heartbeat(
            state=self.state, health=self.health, sent_unix_ms=int(time.time() * 1000)
        )
