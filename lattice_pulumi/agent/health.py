"""Cluster health from the Kubernetes API: Nodes in, state and ``ClusterHealth`` out.

:func:`health_from_nodes` is pure. Control-plane nodes carry the label
``node-role.kubernetes.io/control-plane`` (or the legacy ``.../master``); every other node
is a worker, grouped into pools by ``lattice.dev/pool`` (workers without it form the pool
``UNPOOLED``). A node counts as ready when its ``Ready`` condition is ``"True"``. State:

- no nodes at all: ``PROVISIONING`` (the cluster is still coming up);
- every node ready: ``READY`` (a cluster without workers is ready: none are expected);
- otherwise: ``DEGRADED``, with ``ControlPlaneReady`` / ``WorkersReady`` conditions saying
  which nodes are not ready.

:class:`HealthWatcher` lists the Nodes and reads ``/version`` every ``interval`` seconds
(the heartbeat interval: a heartbeat never carries data older than one beat) and writes
the result into a :class:`StatusHolder`. A failing API call is logged and reported as the
condition ``KubernetesAPIReachable=False`` next to the last known counts; it never stops
the watcher or the agent.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Iterable
from dataclasses import dataclass

from lightkube import AsyncClient
from lightkube.resources.core_v1 import Node

from lattice_pulumi.agent.addon_health import addon_conditions
from lattice_pulumi.agent.status import StatusHolder
from lattice_pulumi.errors import LatticeError
from lattice_pulumi.kube import api_errors, server_version
from lattice_pulumi.protocol import pb

__all__ = [
    "API_CONDITION",
    "CONTROL_PLANE_LABELS",
    "INSTANCE_TYPE_LABEL",
    "POOL_LABEL",
    "UNPOOLED",
    "HealthWatcher",
    "health_from_nodes",
    "node_ready",
]

log = logging.getLogger(__name__)

CONTROL_PLANE_LABELS = (
    "node-role.kubernetes.io/control-plane",
    "node-role.kubernetes.io/master",  # clusters older than Kubernetes 1.24
)
POOL_LABEL = "lattice.dev/pool"
INSTANCE_TYPE_LABEL = "node.kubernetes.io/instance-type"
UNPOOLED = "unpooled"  # the pool of workers without a lattice.dev/pool label
API_CONDITION = "KubernetesAPIReachable"
_MAX_NAMED = 5  # not-ready nodes named in a condition message


def node_ready(node: Node) -> bool:
    """Whether the node's ``Ready`` condition is ``"True"`` (missing means not ready)."""
    conditions = (node.status.conditions if node.status else None) or []
    return any(c.type == "Ready" and c.status == "True" for c in conditions)


def _is_control_plane(node: Node) -> bool:
    labels = node.metadata.labels if node.metadata and node.metadata.labels else {}
    return any(label in labels for label in CONTROL_PLANE_LABELS)


def _name(node: Node) -> str:
    return (node.metadata.name if node.metadata else None) or "<unnamed>"


@dataclass
class _Tally:
    ready: int = 0
    total: int = 0
    instance_type: str = ""

    def counts(self) -> pb.NodeCounts:
        return pb.NodeCounts(ready=self.ready, total=self.total)


def _condition(kind: str, what: str, tally: _Tally, not_ready: list[str]) -> pb.Condition:
    ok = tally.ready == tally.total
    message = f"{tally.ready}/{tally.total} {what} nodes ready"
    if not ok:
        named = ", ".join(not_ready[:_MAX_NAMED])
        more = len(not_ready) - _MAX_NAMED
        message += f"; not ready: {named}" + (f" and {more} more" if more > 0 else "")
    return pb.Condition(
        type=kind,
        status="True" if ok else "False",
        reason="AllNodesReady" if ok else "NodesNotReady",
        message=message,
    )


def health_from_nodes(nodes: Iterable[Node]) -> tuple[pb.ClusterState, pb.ClusterHealth]:
    """The cluster state and health that ``nodes`` (every Node of the cluster) imply."""
    control_plane, workers = _Tally(), _Tally()
    pools: dict[str, _Tally] = {}
    cp_not_ready: list[str] = []
    workers_not_ready: list[str] = []
    for node in sorted(nodes, key=_name):
        ready = node_ready(node)
        if _is_control_plane(node):
            tallies = [control_plane]
            if not ready:
                cp_not_ready.append(_name(node))
        else:
            labels = node.metadata.labels if node.metadata and node.metadata.labels else {}
            pool = pools.setdefault(labels.get(POOL_LABEL) or UNPOOLED, _Tally())
            pool.instance_type = pool.instance_type or labels.get(INSTANCE_TYPE_LABEL, "")
            tallies = [workers, pool]
            if not ready:
                workers_not_ready.append(_name(node))
        for tally in tallies:
            tally.total += 1
            tally.ready += ready
    health = pb.ClusterHealth(
        control_plane=control_plane.counts(),
        workers=workers.counts(),
        conditions=[
            _condition("ControlPlaneReady", "control-plane", control_plane, cp_not_ready),
            _condition("WorkersReady", "worker", workers, workers_not_ready),
        ],
        pools=[
            pb.NodePool(name=name, nodes=tally.counts(), instance_type=tally.instance_type)
            for name, tally in sorted(pools.items())
        ],
    )
    if control_plane.total + workers.total == 0:
        return pb.CLUSTER_STATE_PROVISIONING, health
    if cp_not_ready or workers_not_ready:
        return pb.CLUSTER_STATE_DEGRADED, health
    return pb.CLUSTER_STATE_READY, health


def _now_unix() -> int:
    return int(time.time())


class HealthWatcher:
    """Polls Nodes and ``/version`` every ``interval`` seconds into ``status``.

    The client belongs to the caller (who closes it). :meth:`run` until :meth:`stop`.
    """

    def __init__(self, client: AsyncClient, status: StatusHolder, interval: float) -> None:
        if interval <= 0:
            raise ValueError("interval must be positive")
        self.client = client
        self.status = status
        self.interval = interval
        self.refreshes = 0  # successful refreshes
        self.failures = 0  # consecutive failed refreshes
        self._stopping = asyncio.Event()
        self._last_error = ""
        self._api_since = _now_unix()  # when KubernetesAPIReachable last changed

    async def stop(self) -> None:
        self._stopping.set()

    async def run(self) -> None:
        """Refresh now and then every ``interval`` seconds until stopped; never raises."""
        while not self._stopping.is_set():
            await self.refresh()
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(self.interval):
                    await self._stopping.wait()

    async def refresh(self) -> bool:
        """One read of the cluster; ``False`` (logged, reported as a condition) on failure."""
        try:
            # Bounded even if the API server accepts the connection and then stalls.
            async with asyncio.timeout(max(self.interval, 1.0) * 3):
                with api_errors("list nodes"):
                    nodes = [node async for node in self.client.list(Node, chunk_size=500)]
                version = await server_version(self.client)
                addons = await addon_conditions(self.client)
        except (LatticeError, TimeoutError) as exc:
            self._failed(str(exc) or "the Kubernetes API did not answer in time")
            return False
        state, health = health_from_nodes(nodes)
        health.conditions.extend(addons)
        if self._last_error or self.refreshes == 0:
            self._api_since = _now_unix()
        health.conditions.append(
            pb.Condition(
                type=API_CONDITION,
                status="True",
                reason="NodesListed",
                message=f"{len(nodes)} nodes listed",
                last_transition_unix=self._api_since,
            )
        )
        self.status.update(
            state,
            control_plane=(health.control_plane.ready, health.control_plane.total),
            workers=(health.workers.ready, health.workers.total),
            conditions=health.conditions,
            pools=health.pools,
        )
        self.status.kubernetes_version = version
        if self._last_error:
            log.info("Kubernetes API reachable again")
        self._last_error = ""
        self.failures = 0
        self.refreshes += 1
        return True

    def _failed(self, message: str) -> None:
        if self.failures == 0:
            self._api_since = _now_unix()
        self.failures += 1
        if message != self._last_error:  # one log line per distinct problem, not per beat
            log.warning("cluster health not refreshed: %s", message)
        self._last_error = message
        kept = [c for c in self.status.health.conditions if c.type != API_CONDITION]
        kept.append(
            pb.Condition(
                type=API_CONDITION,
                status="False",
                reason="APIError",
                message=message,
                last_transition_unix=self._api_since,
            )
        )
        del self.status.health.conditions[:]
        self.status.health.conditions.extend(kept)
