"""Upgraded requests through the cell's API proxy: exec, attach and port-forward sessions.

kubectl opens these with ``Connection: Upgrade`` and ``Upgrade: websocket``
(``v5.channel.k8s.io``, ``portforward.k8s.io`` tunnelling) or ``Upgrade: SPDY/3.1`` (the
fallback). The proxy does not speak either protocol: once authenticated and authorized
(Cedar's ``exec`` action for pods/exec, pods/attach and pods/portforward), the request goes
over the tunnel with ``ProxyStart.upgrade`` set; when the cluster's API server answers 101,
the 101 (with its ``Sec-WebSocket-Accept`` / ``X-Stream-Protocol-Version``) is written to the
client and the connection's raw bytes are carried as data frames both ways, multi-hop, so
the client and the API server speak to each other end to end.

The client connection is taken over from aiohttp the way its own WebSocket response does
(a payload parser installed on the request's protocol, set before the 101 goes out so no
byte of the new protocol is read as HTTP). Limits: each direction is bounded by the
stream's credit window, and reading from the client pauses while more than
:data:`READ_BUFFER` bytes wait for credit (so a session whose far end does not read stops
only itself); a session ends after ``idle_timeout`` seconds without a byte either way, when
either side closes, or when the tunnel cancels. An answer other than 101 (403 from the
cluster's RBAC, 400 for a pod that is not running) is relayed as an ordinary response.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Mapping
from typing import Any

from aiohttp import web

from lattice_pulumi.cell.tunnel import ProxyTunnels
from lattice_pulumi.protocol import pb
from lattice_pulumi.protocol.tunnel import HOP_BY_HOP, Activity, StreamCancelled, TunnelStream

__all__ = ["READ_BUFFER", "relay_upgrade", "upgrade_protocol"]

READ_BUFFER = 256 * 1024
MAX_ANSWER = 3 * 1024 * 1024  # a non-101 answer (a Status) is small


def upgrade_protocol(headers: Mapping[str, str]) -> str:
    """The protocol a request asks to switch to (``""`` for an ordinary request)."""
    tokens = {t.strip().lower() for t in headers.get("Connection", "").split(",")}
    return headers.get("Upgrade", "").strip() if "upgrade" in tokens else ""


class _ClientBytes:
    """What the client sends after the 101, fed by aiohttp's protocol (``feed_data`` /
    ``feed_eof``: the payload-parser interface); reading pauses past :data:`READ_BUFFER`."""

    def __init__(self, transport: asyncio.Transport) -> None:
        self._transport = transport
        self._chunks: list[bytes] = []
        self._size = 0
        self._eof = False
        self._paused = False
        self._ready = asyncio.Event()

    def feed_data(self, data: bytes) -> tuple[bool, bytes]:
        self._chunks.append(bytes(data))
        self._size += len(data)
        self._ready.set()
        if self._size > READ_BUFFER and not self._paused:
            self._paused = True
            self._transport.pause_reading()
        return False, b""

    def feed_eof(self) -> None:
        self._eof = True
        self._ready.set()

    async def read(self) -> bytes:
        """The bytes received so far (``b""`` once the client closed)."""
        while not self._chunks:
            if self._eof:
                return b""
            self._ready.clear()
            await self._ready.wait()
        data = b"".join(self._chunks)
        self._chunks, self._size = [], 0
        if self._paused and not self._transport.is_closing():
            self._paused = False
            self._transport.resume_reading()
        return data


class _Switched(web.StreamResponse):
    """The 101 answer: headers only, no length or chunking (the body is the new protocol)."""

    _length_check = False


async def relay_upgrade(
    request: web.BaseRequest,
    start: pb.ProxyStart,
    tunnels: ProxyTunnels,
    *,
    head_timeout: float,
    idle_timeout: float,
) -> web.StreamResponse:
    """Carry one upgraded request to ``start.cluster`` and, once switched, its bytes."""
    opening = pb.ProxyStart()
    opening.CopyFrom(start)
    opening.upgrade = upgrade_protocol(request.headers)
    opening.timeout_ms = 0
    async with tunnels.open(opening, body=None) as stream:
        try:
            async with asyncio.timeout(head_timeout):
                head = await _head(stream)
        except TimeoutError:
            message = f"cluster {start.cluster!r} did not answer in {head_timeout:g}s"
            await stream.cancel(message)
            return _status(504, "Timeout", message)
        except StreamCancelled as exc:
            return _status(502, "ServiceUnavailable", f"the tunnel broke: {exc}")
        if head.status != 101:
            try:
                return await _plain_answer(head, stream)
            except StreamCancelled as exc:
                return _status(502, "ServiceUnavailable", f"the tunnel broke: {exc}")
        transport = request.transport
        if transport is None:
            raise ConnectionResetError("the client went away")
        client = _ClientBytes(transport)
        protocol: Any = request.protocol  # aiohttp's RequestHandler
        protocol.set_parser(client)  # before the 101: no byte after it is parsed as HTTP
        response = _Switched(status=101)
        for header in head.headers:
            if header.name.lower() not in HOP_BY_HOP:
                response.headers.add(header.name, header.value)
        response.headers["Connection"] = "Upgrade"
        response.headers["Upgrade"] = opening.upgrade
        response.force_close()
        await response.prepare(request)
        await _pump_both_ways(client, response, stream, idle_timeout)
        return response


def _status(code: int, reason: str, message: str) -> web.Response:
    body = {"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Failure"}
    return web.json_response(
        {**body, "message": message, "reason": reason, "code": code}, status=code
    )


async def _head(stream: TunnelStream) -> pb.ProxyHead:
    while True:
        frame = await stream.receive()
        if frame.WhichOneof("kind") == "head":
            return frame.head


async def _plain_answer(head: pb.ProxyHead, stream: TunnelStream) -> web.Response:
    answer = web.Response(status=head.status, body=await stream.read_body(MAX_ANSWER))
    with contextlib.suppress(StreamCancelled):  # nothing went the other way: hops may close
        await stream.send_end()
    for header in head.headers:
        if header.name.lower() not in HOP_BY_HOP:
            answer.headers.add(header.name, header.value)
    return answer


async def _pump_both_ways(
    client: _ClientBytes, response: web.StreamResponse, stream: TunnelStream, idle: float
) -> None:
    """Until the client or the cluster closes, the tunnel cancels or the session idles."""
    activity = Activity()
    sender = asyncio.create_task(_from_client(client, stream, activity))
    tasks = {sender, asyncio.create_task(_to_client(stream, response, activity))}
    expiry = asyncio.create_task(activity.expire(idle))
    try:
        done, _ = await asyncio.wait({*tasks, expiry}, return_when=asyncio.FIRST_COMPLETED)
        if expiry in done:
            await stream.cancel(expiry.result())
        for task in done - {expiry}:
            with contextlib.suppress(StreamCancelled, ConnectionError):
                task.result()
    finally:
        for task in (*tasks, expiry):
            task.cancel()
        await asyncio.gather(*tasks, expiry, return_exceptions=True)
        if not _sent_end(sender):  # the far end learns that this side is done too
            with contextlib.suppress(StreamCancelled):
                await stream.send_end()


async def _from_client(client: _ClientBytes, stream: TunnelStream, activity: Activity) -> None:
    while True:
        data = await client.read()
        if not data:
            await stream.send_end()
            return
        activity.touch()
        await stream.send_data(data)  # waits for credit; reading pauses meanwhile


async def _to_client(
    stream: TunnelStream, response: web.StreamResponse, activity: Activity
) -> None:
    while True:
        frame = await stream.receive()
        kind = frame.WhichOneof("kind")
        if kind == "data":
            activity.touch()
            await response.write(frame.data)
        elif kind == "end":
            return


def _sent_end(sender: asyncio.Task[None]) -> bool:
    return sender.done() and not sender.cancelled() and sender.exception() is None
