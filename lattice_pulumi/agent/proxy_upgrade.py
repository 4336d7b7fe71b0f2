"""The agent's half of upgraded API requests: exec, attach and port-forward sessions.

A ``ProxyStart`` with ``upgrade`` set (the client's ``Upgrade`` header: ``websocket`` or
``SPDY/3.1``) is sent to this cluster's API server with ``Connection: Upgrade`` and that
``Upgrade``, as the caller (the same impersonation as every proxied request: the client's
Authorization and Impersonate-* headers are dropped, ``Impersonate-User``/``-Group`` set).
An API server that switches protocols answers 101; the head goes back to the cell and from
then on the connection's raw bytes travel as data frames both ways, each direction bounded
by the stream's credit window (a client that stops reading stops the API server's reads,
never the tunnel). The session ends when the API server closes the connection (``end`` to
the cell), when the cell ends its side (the client closed: the connection is closed), on a
cancel, or after :data:`IDLE_TIMEOUT` seconds without a byte either way. Any other answer
(400, 403, a Status from a pod that is not running) is relayed as an ordinary response.
"""

from __future__ import annotations

import asyncio
import contextlib
from typing import Any

import httpx2

from lattice_pulumi.protocol import pb
from lattice_pulumi.protocol.tunnel import (
    HOP_BY_HOP,
    MAX_CHUNK,
    Activity,
    StreamCancelled,
    TunnelStream,
)

__all__ = ["IDLE_TIMEOUT", "relay_upgrade"]

IDLE_TIMEOUT = 4 * 3600.0  # the kubelet's own default streaming idle timeout
CONNECT_TIMEOUT = 10.0
HEAD_TIMEOUT = 30.0


def _head_of(response: httpx2.Response) -> pb.ProxyHead:
    head = pb.ProxyHead(status=response.status_code)
    for name, value in response.headers.multi_items():
        if name.lower() not in HOP_BY_HOP:
            head.headers.add(name=name, value=value)
    return head


async def relay_upgrade(
    http: httpx2.AsyncClient,
    start: pb.ProxyStart,
    stream: TunnelStream,
    headers: list[tuple[str, str]],
    *,
    idle_timeout: float = IDLE_TIMEOUT,
) -> None:
    """Run one upgraded request against ``http``'s API server; ``headers`` are the
    request's headers as the caller (impersonation set, hop-by-hop ones dropped)."""
    request = http.build_request(
        start.method,
        start.path,
        headers=[*headers, ("Connection", "Upgrade"), ("Upgrade", start.upgrade)],
        timeout=httpx2.Timeout(HEAD_TIMEOUT, connect=CONNECT_TIMEOUT),
    )
    response = await http.send(request, stream=True)
    try:
        if response.status_code != 101:
            await _relay_answer(response, stream)
            return
        await stream.send_head(_head_of(response))
        await _pump_both_ways(response.extensions["network_stream"], stream, idle_timeout)
    finally:
        await response.aclose()


async def _relay_answer(response: httpx2.Response, stream: TunnelStream) -> None:
    """The API server did not switch protocols: its answer goes back as it is."""
    await stream.send_head(_head_of(response))
    async for piece in response.aiter_raw():
        await stream.send_data(piece)
    await stream.send_end()


async def _pump_both_ways(network: Any, stream: TunnelStream, idle_timeout: float) -> None:
    activity = Activity()
    sender = asyncio.create_task(_from_server(network, stream, activity))
    tasks = {sender, asyncio.create_task(_to_server(stream, network, activity))}
    idle = asyncio.create_task(activity.expire(idle_timeout))
    try:
        done, _ = await asyncio.wait({*tasks, idle}, return_when=asyncio.FIRST_COMPLETED)
        if idle in done:
            await stream.cancel(idle.result())
            return
        for task in done:
            task.result()  # a StreamCancelled ends the request (serve_stream logs it)
    finally:
        for task in (*tasks, idle):
            task.cancel()
        await asyncio.gather(*tasks, idle, return_exceptions=True)
        if not _sent_end(sender):  # the far end learns that this side is done too
            with contextlib.suppress(StreamCancelled):
                await stream.send_end()
        with contextlib.suppress(Exception):
            await network.aclose()


async def _from_server(network: Any, stream: TunnelStream, activity: Activity) -> None:
    """API server -> cell, until the API server closes the connection."""
    while True:
        try:
            data: bytes = await network.read(MAX_CHUNK)
        except Exception as exc:  # httpcore2's read errors: the connection is gone
            await stream.cancel(f"the API server connection broke: {exc}")
            raise StreamCancelled(str(exc)) from exc
        if not data:
            await stream.send_end()
            return
        activity.touch()
        await stream.send_data(data)  # waits for credit: the client reads at its pace


async def _to_server(stream: TunnelStream, network: Any, activity: Activity) -> None:
    """Cell -> API server, until the cell ends its side (the client closed)."""
    while True:
        frame = await stream.receive()
        kind = frame.WhichOneof("kind")
        if kind == "data":
            activity.touch()
            try:
                await network.write(frame.data)
            except Exception as exc:  # httpcore2's write errors: the connection is gone
                await stream.cancel(f"the API server connection broke: {exc}")
                raise StreamCancelled(str(exc)) from exc
        elif kind == "end":
            return


def _sent_end(sender: asyncio.Task[None]) -> bool:
    return sender.done() and not sender.cancelled() and sender.exception() is None
