"""The agent's half of the API proxy: run a tunnelled request against this cluster's API
server as the caller, and stream the answer back.

The cell authenticated and authorized the caller; the request arrives as a
``ProxyStart`` naming the user and groups. :class:`KubeProxy` sends it with the agent's own
credentials plus ``Impersonate-User`` / ``Impersonate-Group`` for that caller, so the API
server's RBAC decides with the caller's identity, and the agent's account needs nothing but
``impersonate``. Whatever Authorization or Impersonate-* headers the client sent are dropped
first (the cell drops them as well), as are hop-by-hop headers. A request body the cell sent
whole in its first frames goes on in one piece; a longer one streams to the API server as
it arrives (at most :data:`MAX_REQUEST_BODY`, else 413), with credits granted as it is
written. Response bodies stream back in credit-sized pieces, so a watch runs as long as
the client keeps reading, and a cancel from the cell (the client went away) closes the API
server connection. Upgraded requests (exec, attach, port-forward) are relayed by
:mod:`lattice_pulumi.agent.proxy_upgrade`.

:func:`serve_stream` is what the agent's session runs per stream: it picks this cluster's
:class:`KubeProxy` or, for a cluster further down, the ``forward`` backend given by a
mid-level cell, and turns failures into a Kubernetes ``Status`` answer.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from collections.abc import AsyncIterator, Awaitable, Callable

import aiohttp
import httpx2

from lattice_pulumi.agent.apiserver import ApiServerPool
from lattice_pulumi.agent.proxy_upgrade import relay_upgrade
from lattice_pulumi.protocol import pb
from lattice_pulumi.protocol.tunnel import (
    HOP_BY_HOP,
    MAX_CHUNK,
    StreamCancelled,
    TunnelStream,
    caller_header,
)

__all__ = [
    "MAX_REQUEST_BODY",
    "Backend",
    "KubeProxy",
    "proxied_request_headers",
    "serve_stream",
    "status_body",
]

log = logging.getLogger(__name__)

MAX_REQUEST_BODY = 3 * 1024 * 1024  # kube-apiserver's own default limit for a request body

Backend = Callable[[pb.ProxyStart, TunnelStream], Awaitable[None]]


def proxied_request_headers(start: pb.ProxyStart) -> list[tuple[str, str]]:
    """The client's headers less credentials, impersonation and hop-by-hop ones, plus
    ``Impersonate-User`` and one ``Impersonate-Group`` per group of the caller."""
    headers = [(h.name, h.value) for h in start.headers if caller_header(h.name)]
    headers.append(("Impersonate-User", start.user))
    headers.extend(("Impersonate-Group", group) for group in start.groups)
    return headers


def status_body(code: int, reason: str, message: str) -> bytes:
    """A Kubernetes ``Status`` object as JSON, as the API server writes errors."""
    return json.dumps(
        {
            "kind": "Status",
            "apiVersion": "v1",
            "metadata": {},
            "status": "Failure",
            "message": message,
            "reason": reason,
            "code": code,
        }
    ).encode()


async def _read_body(stream: TunnelStream, limit: int) -> bytes:
    try:
        return await stream.read_body(limit)
    except StreamCancelled:
        if stream.cancelled:
            raise
        raise _Refused(413, "RequestEntityTooLarge", f"request body over {limit} bytes") from None


class _Refused(Exception):
    def __init__(self, code: int, reason: str, message: str) -> None:
        super().__init__(message)
        self.code, self.reason, self.message = code, reason, message


class _StreamedBody:
    """A request body still arriving over the tunnel, handed to the HTTP client piece by
    piece as the cell sends it (credits flow back as pieces are written), at most
    ``limit`` bytes."""

    def __init__(self, stream: TunnelStream, limit: int) -> None:
        self._stream = stream
        self._limit = limit
        self.overflow = False

    async def __aiter__(self) -> AsyncIterator[bytes]:
        total = 0
        while True:
            frame = await self._stream.receive()
            kind = frame.WhichOneof("kind")
            if kind == "end":
                return
            if kind == "data":
                total += len(frame.data)
                if total > self._limit:
                    self.overflow = True
                    raise StreamCancelled(f"request body over {self._limit} bytes")
                yield frame.data


async def _request_body(stream: TunnelStream, limit: int) -> bytes | _StreamedBody | None:
    """The whole body when the cell already sent all of it (most requests), else the
    body as it streams in."""
    if stream.peer_done:
        return await _read_body(stream, limit) or None
    return _StreamedBody(stream, limit)


def _response_head(response: aiohttp.ClientResponse) -> pb.ProxyHead:
    head = pb.ProxyHead(status=response.status)
    for name, value in response.headers.items():
        if name.lower() not in HOP_BY_HOP:
            head.headers.add(name=name, value=value)
    return head


class KubeProxy:
    """Relays tunnelled requests to one API server, the one ``http`` is configured for
    (its base URL, TLS and the agent's credentials), impersonating each request's caller.
    Requests go over :class:`lattice_pulumi.agent.apiserver.ApiServerPool`'s kept-alive
    connections; :meth:`aclose` closes them (the agent does when it stops)."""

    def __init__(self, http: httpx2.AsyncClient, *, max_body: int = MAX_REQUEST_BODY) -> None:
        self._http = http  # upgraded requests (exec, attach, port-forward) go through it
        self._pool = ApiServerPool(http)
        self._max_body = max_body

    async def aclose(self) -> None:
        await self._pool.aclose()

    async def __call__(self, start: pb.ProxyStart, stream: TunnelStream) -> None:
        if not start.user:
            raise _Refused(400, "BadRequest", "the tunnelled request names no caller")
        if start.upgrade:  # exec, attach, port-forward (lattice_pulumi.agent.proxy_upgrade)
            try:
                await relay_upgrade(self._http, start, stream, proxied_request_headers(start))
            except httpx2.HTTPError as exc:
                message = f"cannot reach the API server: {exc}"
                raise _Refused(502, "ServiceUnavailable", message) from exc
            return
        body = await _request_body(stream, self._max_body)
        total = start.timeout_ms / 1000 if start.timeout_ms else None
        headers = proxied_request_headers(start)
        try:
            async with self._pool.request(
                start.method, start.path, headers, body, total
            ) as response:
                await _relay_response(response, stream)
        except TimeoutError as exc:
            raise _Refused(504, "Timeout", f"the API server did not answer: {exc}") from exc
        except (aiohttp.ClientError, StreamCancelled) as exc:
            if isinstance(body, _StreamedBody) and body.overflow:
                message = f"request body over {self._max_body} bytes"
                raise _Refused(413, "RequestEntityTooLarge", message) from None
            if stream.cancelled:
                raise StreamCancelled(stream.cancel_reason or "cancelled") from None
            message = f"cannot reach the API server: {exc}"
            raise _Refused(502, "ServiceUnavailable", message) from exc


async def _relay_response(response: aiohttp.ClientResponse, stream: TunnelStream) -> None:
    """Send the API server's answer back: one frame when it is small and sized, else the
    head and then the body as it comes (a watch: for as long as it lasts)."""
    head = _response_head(response)
    length = response.content_length
    if length is not None and length <= MAX_CHUNK:
        await stream.send_head(head, await response.read(), last=True)
        return
    await stream.send_head(head)
    try:
        async for piece in response.content.iter_any():
            await stream.send_data(piece)
    except aiohttp.ClientError as exc:
        await stream.cancel(f"the API server connection broke: {exc}")
        return
    await stream.send_end()


async def serve_stream(
    own_cluster: str,
    start: pb.ProxyStart,
    stream: TunnelStream,
    local: Backend | None,
    forward: Backend | None,
) -> None:
    """Answer one tunnelled request: locally, forwarded below, or with an error Status.

    A cancel from the cell stops the work at once, even while the API server is silent (an
    idle watch): the task serving the stream is cancelled, which closes its connection. (No
    extra task per stream: the stream's cancel callback cancels the caller's task.)
    """
    task = asyncio.current_task()
    if task is None:
        raise RuntimeError("serve_stream must run in a task")
    stopped = False

    def stop() -> None:
        nonlocal stopped
        if asyncio.current_task() is not task:  # the work itself notices its own cancel
            stopped = True
            task.cancel()

    stream.on_cancel(stop)
    try:
        await _answer(own_cluster, start, stream, local, forward)
    except asyncio.CancelledError:
        if not stopped or task.uncancel() > 0:  # also cancelled from outside
            raise
        log.debug("proxied request %s cancelled: %s", stream.stream_id, stream.cancel_reason)


async def _answer(
    own_cluster: str,
    start: pb.ProxyStart,
    stream: TunnelStream,
    local: Backend | None,
    forward: Backend | None,
) -> None:
    target = start.cluster or own_cluster
    backend = local if target == own_cluster else forward
    try:
        if backend is None:
            where = (
                "this agent has no API access"
                if target == own_cluster
                else (f"cluster {target!r} is not below {own_cluster!r}")
            )
            raise _Refused(502, "ServiceUnavailable", where)
        await backend(start, stream)
    except StreamCancelled as exc:
        log.debug("proxied request %s cancelled: %s", stream.stream_id, exc)
    except _Refused as exc:
        await _answer_status(stream, exc.code, exc.reason, exc.message)
    except Exception as exc:  # one failed request never ends the session
        log.warning("proxied request %s failed: %s", stream.stream_id, exc)
        await _answer_status(stream, 502, "ServiceUnavailable", f"agent error: {exc}")


async def _answer_status(stream: TunnelStream, code: int, reason: str, message: str) -> None:
    head = pb.ProxyHead(status=code)
    head.headers.add(name="Content-Type", value="application/json")
    with contextlib.suppress(StreamCancelled):
        await stream.send_head(head, status_body(code, reason, message), last=True)
