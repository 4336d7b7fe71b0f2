"""Streams of tunnelled API requests over the Connect stream, with per-stream flow control.

Shared by the cell (which opens streams) and the agent (which answers them), so both ends
count credits the same way. A :class:`TunnelStream` is one proxied request seen from one
end: frames from the peer arrive through :meth:`TunnelStream.deliver` (called by the
session's reader, never blocking) and are taken with :meth:`TunnelStream.receive`; frames
to the peer go out through the ``send`` callable of the session.

Flow control: each direction starts with ``window`` bytes of credit. A sender may only
put that many body bytes on the wire before the receiver grants more; the receiver grants
what its consumer has taken once that reaches half the window. A slow consumer therefore
stops only its own stream's sender, while heartbeats and other streams flow on. A peer
that sends more than it was granted breaks the rule and its stream is cancelled.
:class:`StreamTable` holds the streams of one session and cancels them all when it ends.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections import deque
from collections.abc import Awaitable, Callable, Iterator

from lattice_pulumi.errors import LatticeError
from lattice_pulumi.protocol.gen import agent_pb2 as pb

__all__ = [
    "DEFAULT_WINDOW",
    "HOP_BY_HOP",
    "MAX_CHUNK",
    "MAX_WINDOW",
    "Activity",
    "StreamCancelled",
    "StreamTable",
    "TunnelStream",
    "caller_header",
    "chunks",
    "clamp_window",
]

# Headers of one HTTP hop, never carried over the tunnel (each side sets its own).
HOP_BY_HOP = frozenset(
    {
        "connection",
        "keep-alive",
        "proxy-authenticate",
        "proxy-authorization",
        "proxy-connection",
        "te",
        "trailer",
        "transfer-encoding",
        "upgrade",
        "host",
        "content-length",
    }
)


def caller_header(name: str) -> bool:
    """Whether a client's request header travels on: not hop-by-hop, not credentials, not
    Impersonate-* (the agent sets who the request runs as)."""
    lower = name.lower()
    return not (
        lower in HOP_BY_HOP or lower == "authorization" or lower.startswith("impersonate-")
    )


MAX_CHUNK = 32 * 1024  # body bytes per data frame
DEFAULT_WINDOW = 256 * 1024  # initial credit of each direction of a stream
MAX_WINDOW = 8 * 1024 * 1024


def clamp_window(asked: int) -> int:
    """The window a peer asked for, within [MAX_CHUNK, MAX_WINDOW] (0: the default)."""
    return max(MAX_CHUNK, min(asked or DEFAULT_WINDOW, MAX_WINDOW))


Send = Callable[[pb.ProxyFrame], Awaitable[None]]

_END = pb.ProxyFrame(end=pb.ProxyEnd())  # the end a `last` frame implies (never modified)


class StreamCancelled(LatticeError):
    """The stream was cancelled (by the peer, by a timeout, or because the session ended)."""


def chunks(data: bytes, size: int = MAX_CHUNK) -> Iterator[bytes]:
    """``data`` in pieces of at most ``size`` bytes (nothing for empty data)."""
    for start in range(0, len(data), size):
        yield data[start : start + size]


class Activity:
    """When a byte last went either way on an upgraded stream (exec, attach,
    port-forward), for the idle timeout both ends apply."""

    def __init__(self) -> None:
        self.last = time.monotonic()

    def touch(self) -> None:
        self.last = time.monotonic()

    async def expire(self, idle_timeout: float) -> str:
        """Return, with the reason, once nothing moved for ``idle_timeout`` seconds."""
        while True:
            left = self.last + idle_timeout - time.monotonic()
            if left <= 0:
                return f"no bytes either way for {idle_timeout:g}s"
            await asyncio.sleep(left)


class TunnelStream:
    """One proxied request at one end of the tunnel."""

    def __init__(self, stream_id: str, send: Send, window: int = DEFAULT_WINDOW) -> None:
        if window < MAX_CHUNK:
            raise ValueError(f"window must be at least {MAX_CHUNK} bytes")
        self.stream_id = stream_id
        self.window = window
        self.cancel_reason: str | None = None
        self._send = send
        # Frames from the peer not yet taken; a receiver waiting on an empty inbox parks on
        # ``_waiter`` (one consumer per stream, so a future is all a queue would give).
        self._inbox: deque[pb.ProxyFrame] = deque()
        self._waiter: asyncio.Future[None] | None = None
        self._credit = window  # bytes this end may still send
        self._credit_changed = asyncio.Event()
        self._cancelled = asyncio.Event()
        self.peer_done = False  # the peer's last frame has arrived (everything is queued)
        self._unread = 0  # bytes received and not yet taken by the consumer
        self._taken = 0  # bytes taken since the last grant
        self._on_cancel: Callable[[], None] | None = None

    @property
    def cancelled(self) -> bool:
        return self.cancel_reason is not None

    @property
    def credit(self) -> int:
        """Body bytes this end may still send before the peer grants more."""
        return self._credit

    def on_cancel(self, callback: Callable[[], None] | None) -> None:
        """Call ``callback`` (once) when the stream is cancelled, at once if it already is;
        ``None`` removes it."""
        self._on_cancel = callback
        if callback is not None and self.cancelled:
            self._on_cancel = None
            callback()

    async def wait_cancelled(self) -> str:
        """Wait until the stream is cancelled; the reason."""
        await self._cancelled.wait()
        return self.cancel_reason or "cancelled"

    # ---- from the peer -------------------------------------------------------------------

    def deliver(self, frame: pb.ProxyFrame) -> None:
        """Hand a frame from the peer to this stream (never blocks); the stream takes the
        frame and may change it."""
        kind = frame.WhichOneof("kind")
        if kind == "credit":
            self._credit += frame.credit
            self._credit_changed.set()
            return
        if kind == "cancel":
            self._mark_cancelled(frame.cancel.reason or "cancelled by the peer")
            return
        if self.peer_done:
            self._mark_cancelled(f"a {kind} frame after the peer's last one")
            return
        body = frame.head.body if kind == "head" else frame.data if kind == "data" else b""
        self._unread += len(body)
        if self._unread > self.window:
            self._mark_cancelled("the peer sent more than its credit")
            return
        # Receivers see a uniform sequence: head, data..., end (a head's body and `last`
        # are unfolded here, in place: the frame is this end's own, just parsed).
        self._inbox.append(frame)
        if kind == "head" and body:
            frame.head.body = b""
            self._inbox.append(pb.ProxyFrame(stream_id=self.stream_id, data=body))
        if kind == "end" or frame.last:
            self.peer_done = True
            if kind != "end":
                self._inbox.append(_END)
        self._wake()

    def _wake(self) -> None:
        waiter, self._waiter = self._waiter, None
        if waiter is not None and not waiter.done():
            waiter.set_result(None)

    def _mark_cancelled(self, reason: str) -> None:
        if self.cancel_reason is None:
            self.cancel_reason = reason
        self._credit_changed.set()
        self._cancelled.set()
        callback, self._on_cancel = self._on_cancel, None
        if callback is not None:
            callback()
        self._inbox.clear()  # what was queued is dropped: every receive now raises
        self._wake()

    async def receive(self) -> pb.ProxyFrame:
        """The next frame from the peer; raises :class:`StreamCancelled` once cancelled
        (frames still queued then are dropped)."""
        while not self._inbox:
            self._check()
            self._waiter = asyncio.get_running_loop().create_future()
            await self._waiter
        self._check()
        frame = self._inbox.popleft()
        kind = frame.WhichOneof("kind")
        if kind == "data":
            size = len(frame.data)
            self._unread -= size
            self._taken += size
            if self._taken >= self.window // 2:
                grant, self._taken = self._taken, 0
                await self._send(pb.ProxyFrame(stream_id=self.stream_id, credit=grant))
        return frame

    async def read_body(self, limit: int) -> bytes:
        """Every body byte up to the peer's end; :class:`StreamCancelled` past ``limit``."""
        body = bytearray()
        while True:
            frame = await self.receive()
            kind = frame.WhichOneof("kind")
            if kind == "end":
                return bytes(body)
            if kind == "data":
                body += frame.data
                if len(body) > limit:
                    raise StreamCancelled(f"body over {limit} bytes")

    # ---- to the peer ---------------------------------------------------------------------

    async def send_frame(self, frame: pb.ProxyFrame) -> None:
        """Send a frame without body bytes (start, head, end)."""
        self._check()
        frame.stream_id = self.stream_id
        await self._send(frame)

    async def send_data(self, data: bytes, *, last: bool = False) -> None:
        """Send body bytes, waiting for credit as needed; ``last`` also ends the body."""
        view = memoryview(data)
        if not view and last:
            await self.send_end()
        while view:
            self._check()
            if self._credit <= 0:
                self._credit_changed.clear()
                await self._credit_changed.wait()
                continue
            size = min(len(view), MAX_CHUNK, self._credit)
            self._credit -= size
            final = last and size == len(view)
            piece = bytes(view[:size])
            await self._send(pb.ProxyFrame(stream_id=self.stream_id, data=piece, last=final))
            view = view[size:]

    async def send_head(self, head: pb.ProxyHead, body: bytes = b"", *, last: bool = False) -> None:
        """Send the response head, with the body's first chunk when it fits the credit."""
        self._check()
        inline = body if len(body) <= min(MAX_CHUNK, self._credit) else b""
        frame = pb.ProxyFrame(stream_id=self.stream_id, last=last and inline == body)
        frame.head.CopyFrom(head)
        frame.head.body = inline
        self._credit -= len(inline)
        await self._send(frame)
        if inline != body:
            await self.send_data(body, last=last)

    async def send_end(self) -> None:
        await self.send_frame(pb.ProxyFrame(end=pb.ProxyEnd()))

    async def cancel(self, reason: str) -> None:
        """Tell the peer to abandon the stream and stop this end (idempotent)."""
        if self.cancelled:
            return
        self._mark_cancelled(reason)
        with contextlib.suppress(Exception):  # the session may be gone already
            await self._send(
                pb.ProxyFrame(stream_id=self.stream_id, cancel=pb.ProxyCancel(reason=reason))
            )

    def abandon(self, reason: str) -> None:
        """Stop this end without telling the peer (the session is gone)."""
        self._mark_cancelled(reason)

    def _check(self) -> None:
        if self.cancel_reason is not None:
            raise StreamCancelled(self.cancel_reason)


class StreamTable:
    """The open streams of one session, by id."""

    def __init__(self, limit: int = 256) -> None:
        self.limit = limit
        self._streams: dict[str, TunnelStream] = {}

    def __len__(self) -> int:
        return len(self._streams)

    def ids(self) -> list[str]:
        return sorted(self._streams)

    def get_streams(self) -> list[TunnelStream]:
        return [self._streams[k] for k in sorted(self._streams)]

    def get(self, stream_id: str) -> TunnelStream | None:
        return self._streams.get(stream_id)

    def add(self, stream: TunnelStream) -> None:
        if len(self._streams) >= self.limit:
            raise StreamCancelled(f"too many open streams (limit {self.limit})")
        if stream.stream_id in self._streams:
            raise StreamCancelled(f"stream {stream.stream_id!r} is already open")
        self._streams[stream.stream_id] = stream

    def remove(self, stream: TunnelStream) -> None:
        if self._streams.get(stream.stream_id) is stream:
            del self._streams[stream.stream_id]

    def deliver(self, frame: pb.ProxyFrame) -> bool:
        """Hand ``frame`` to its stream; ``False`` when no such stream is open."""
        stream = self._streams.get(frame.stream_id)
        if stream is None:
            return False
        stream.deliver(frame)
        return True

    def abandon_all(self, reason: str) -> None:
        for stream in list(self._streams.values()):
            stream.abandon(reason)
        self._streams.clear()
