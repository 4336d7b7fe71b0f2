"""The cell's end of tunnelled API requests: open a stream to a cluster below, or forward one.

:meth:`ProxyTunnels.open` finds the direct child through which a cluster is reached (itself,
or the child whose agent reported it in its subtree), checks that child's agent speaks a
protocol with the proxy (:data:`lattice_pulumi.protocol.PROXY_SINCE`) and sends
``ProxyStart`` on its session. Frames to the child go to the session's proxy flow, apart
from its command queue (see :class:`lattice_pulumi.cell.service.Session`); per-stream
credits bound what any one stream can queue.

:meth:`ProxyTunnels.forward` is the multi-hop step: a mid-level cell's own agent receives a
stream for a cluster below (from its parent) and hands it here; the stream is re-opened
towards the child and frames are pumped both ways until one side ends or cancels.
Used by :class:`lattice_pulumi.cell.server.CellServer` (``cell.tunnels``), the HTTPS proxy
and, through the CLI's wiring, by a mid-level cell's upstream agent.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
from collections.abc import AsyncIterator

from lattice_pulumi.cell.errors import CellError
from lattice_pulumi.cell.registry import ClusterRegistry
from lattice_pulumi.cell.service import AgentService, Session
from lattice_pulumi.protocol import PROXY_SINCE, UPGRADE_SINCE, pb
from lattice_pulumi.protocol.tunnel import (
    DEFAULT_WINDOW,
    StreamCancelled,
    TunnelStream,
)

__all__ = ["ProxyTunnels"]


class ProxyTunnels:
    """Streams of tunnelled requests over the sessions of one cell's children."""

    def __init__(
        self, service: AgentService, registry: ClusterRegistry, window: int = DEFAULT_WINDOW
    ) -> None:
        self._service = service
        self._registry = registry
        self.window = window
        self._ids = itertools.count(1)  # stream ids: unique per cell, so per session too

    def reachable(self) -> list[str]:
        """Every cluster below this cell that has a connected route (sorted)."""
        names: set[str] = set()
        for name, _session in self._service.sessions.items():
            names.add(name)
            record = self._registry.get(name)
            if record is not None:
                names.update(e.name for e in record.subtree if e.connected)
        return sorted(names)

    def open_streams(self) -> list[str]:
        """``cluster/stream-id`` of every stream open on this cell's sessions (sorted)."""
        return sorted(
            f"{name}/{stream_id}"
            for name, session in self._service.sessions.items()
            for stream_id in session.streams.ids()
        )

    def _session_for(self, cluster: str) -> Session:
        route = self._registry.route_to(cluster)
        if route is None:
            raise CellError(f"cluster {cluster!r} is not in this cell's fleet")
        child, _ = route
        session = self._service.sessions.get(child)
        if session is None:
            via = f" (reached through {child!r})" if child != cluster else ""
            raise CellError(f"cluster {cluster!r} is not connected{via}")
        if session.protocol < PROXY_SINCE:
            raise CellError(
                f"the agent of cluster {child!r} speaks protocol {session.protocol}, which has "
                f"no API proxy (needs {PROXY_SINCE}); upgrade that agent"
            )
        return session

    @contextlib.asynccontextmanager
    async def open(
        self, start: pb.ProxyStart, body: bytes | None = b""
    ) -> AsyncIterator[TunnelStream]:
        """A stream carrying ``start`` and the request ``body`` to ``start.cluster`` (with
        ``body=None`` the caller sends the body itself); closed, and cancelled if
        unfinished, when the block ends. Raises :class:`CellError` when the cluster cannot
        be reached."""
        session = self._session_for(start.cluster)
        if start.upgrade and session.protocol < UPGRADE_SINCE:
            raise CellError(
                f"the agent of cluster {session.cluster!r} speaks protocol {session.protocol}, "
                f"which cannot relay {start.upgrade} (needs {UPGRADE_SINCE}); upgrade that agent"
            )

        async def send(frame: pb.ProxyFrame) -> None:
            if session.closed.is_set():
                raise StreamCancelled(f"cluster {session.cluster!r} disconnected")
            session.queue_proxy(frame)

        stream = TunnelStream(f"{next(self._ids):x}", send, self.window)
        try:
            session.streams.add(stream)
        except StreamCancelled as exc:
            raise CellError(f"cluster {session.cluster!r}: {exc}") from None
        opening = pb.ProxyFrame(last=body == b"")
        opening.start.CopyFrom(start)
        opening.start.window = self.window
        finished = False
        try:
            await stream.send_frame(opening)
            if body:
                await stream.send_data(body, last=True)
            yield stream
            finished = True
        finally:
            session.streams.remove(stream)
            if not finished:
                await stream.cancel("the requester went away")

    async def forward(self, start: pb.ProxyStart, upstream: TunnelStream) -> None:
        """Carry a stream that arrived from this cell's parent on to the cluster below."""
        # A request whose body is all here already (most are) goes on as one frame.
        body = await upstream.read_body(upstream.window) if upstream.peer_done else None
        async with self.open(start, body=body) as downstream:
            pumps = [asyncio.create_task(_pump(downstream, upstream))]
            if body is None:
                pumps.append(asyncio.create_task(_pump(upstream, downstream)))
            try:
                done, _ = await asyncio.wait(pumps, return_when=asyncio.FIRST_EXCEPTION)
                for task in done:
                    error = task.exception()
                    if isinstance(error, StreamCancelled):
                        await upstream.cancel(str(error))
                        await downstream.cancel(str(error))
                        return
                    if error is not None:
                        raise error
            finally:
                for task in pumps:
                    task.cancel()
                await asyncio.gather(*pumps, return_exceptions=True)


async def _pump(source: TunnelStream, sink: TunnelStream) -> None:
    """Copy frames from ``source`` to ``sink`` until ``source`` ends."""
    while True:
        frame = await source.receive()
        kind = frame.WhichOneof("kind")
        if kind == "data":
            await sink.send_data(frame.data)
        elif kind == "end":
            await sink.send_end()
            return
        elif kind == "head" and source.peer_done:  # a whole small answer: one frame on
            await sink.send_head(frame.head, await source.read_body(source.window), last=True)
            return
        elif kind == "head":
            await sink.send_head(frame.head)
