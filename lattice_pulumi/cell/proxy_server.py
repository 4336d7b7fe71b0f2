"""The cell's HTTPS API proxy: ``/clusters/<name>/...`` to any cluster below, over tunnels.

Server: aiohttp's low-level web server (one dependency that gives asyncio HTTP/1.1 with TLS,
chunked streaming responses and handler cancellation when the client disconnects; upgraded
connections, exec / attach / port-forward, are in :mod:`lattice_pulumi.cell.proxy_upgrade`).
Per request, in this order:

1. authenticate the bearer token (:mod:`lattice_pulumi.cell.authn`), else 401 with the reason;
2. read the request like kube-apiserver (:mod:`lattice_pulumi.cell.requestinfo`) and ask
   Cedar with the verb, API group, resource, subresource, namespace and the cluster's labels;
   default deny, 403 whose message names the permit to add;
3. audit the decision (:class:`lattice_pulumi.cell.audit.AuditLog`);
4. forward over the tunnel as the caller: Authorization, Impersonate-* and hop-by-hop headers
   are dropped here (and again by the agent), which impersonates the authenticated caller.

A small sized request body goes in the opening frames; a larger or chunked one streams
through the tunnel as the client sends it, with the same per-stream credits as responses,
and past ``max_body`` the stream is cancelled and the client gets 413 (a Kubernetes
``Status``). Responses stream as they come (watches, chunked lists); when the client goes away the
handler is cancelled and the stream with it, which closes the API server connection at the
far end. Every error is a Kubernetes ``Status`` object, so kubectl prints it as the API
server's own. ``GET /v1/clusters`` lists the clusters the caller may reach (``lattice login``).
"""

from __future__ import annotations

import asyncio
import logging
import ssl
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from aiohttp import web

from lattice_pulumi import pki
from lattice_pulumi.cell.audit import AuditLog
from lattice_pulumi.cell.authn import AuthenticationError, Authenticator, Caller, bearer_token
from lattice_pulumi.cell.decisions import RequestMemo
from lattice_pulumi.cell.errors import CellError
from lattice_pulumi.cell.proxy_upgrade import relay_upgrade, upgrade_protocol
from lattice_pulumi.cell.registry import ClusterRegistry
from lattice_pulumi.cell.requestinfo import RequestInfo, parse_request
from lattice_pulumi.cell.tunnel import ProxyTunnels
from lattice_pulumi.policy import Authorizer, Request, denial_message
from lattice_pulumi.policy import requests as cedar_requests
from lattice_pulumi.policy import schema as cedar_schema
from lattice_pulumi.protocol import pb
from lattice_pulumi.protocol.tunnel import (
    HOP_BY_HOP,
    MAX_CHUNK,
    StreamCancelled,
    TunnelStream,
    caller_header,
)

__all__ = ["ProxyConfig", "ProxyServer", "status_response"]

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class ProxyConfig:
    """Where the proxy listens and how long and how much it lets requests take."""

    host: str = "127.0.0.1"
    port: int = 0
    request_timeout: float = 60.0  # whole request, except watches and followed logs
    head_timeout: float = 30.0  # until the far API server starts answering
    max_body: int = 3 * 1024 * 1024
    upgrade_idle_timeout: float = 4 * 3600.0  # exec/attach/port-forward with no bytes moving


def status_response(code: int, reason: str, message: str, **details: Any) -> web.Response:
    """A Kubernetes ``Status`` object with HTTP status ``code``."""
    body: dict[str, Any] = {
        "kind": "Status",
        "apiVersion": "v1",
        "metadata": {},
        "status": "Failure",
        "message": message,
        "reason": reason,
        "code": code,
    }
    if details:
        body["details"] = details
    return web.json_response(body, status=code)


def _add_client_headers(start: pb.ProxyStart, request: web.BaseRequest) -> None:
    add = start.headers.add  # cheaper than building ProxyHeader messages to copy in
    for name, value in request.headers.items():
        if caller_header(name):
            add(name=name, value=value)


def _streaming(request: web.BaseRequest, info: RequestInfo) -> bool:
    follow = request.query.get("follow", "").lower() in ("1", "true")
    return info.streaming or follow


class ProxyServer:
    """The HTTPS listener of one cell's API proxy."""

    def __init__(
        self,
        tunnels: ProxyTunnels,
        registry: ClusterRegistry,
        authenticator: Authenticator,
        authorizer: Authorizer,
        certificate: pki.IssuedCertificate,
        *,
        audit: AuditLog | None = None,
        config: ProxyConfig | None = None,
    ) -> None:
        self.config = config or ProxyConfig()
        self.audit = audit or AuditLog()
        self._tunnels = tunnels
        self._registry = registry
        self._authenticator = authenticator
        self._authorizer = authorizer
        self._certificate = certificate
        self._requests = RequestMemo()
        self._runner: web.ServerRunner | None = None
        self.port = 0

    @property
    def url(self) -> str:
        return f"https://{self.config.host}:{self.port}"

    def _ssl_context(self) -> ssl.SSLContext:
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        with tempfile.TemporaryDirectory() as directory:
            cert, key = Path(directory) / "tls.crt", Path(directory) / "tls.key"
            cert.write_bytes(self._certificate.certificate_pem())
            key.touch(mode=0o600)
            key.write_bytes(self._certificate.key_pem())
            context.load_cert_chain(cert, key)
        return context

    async def start(self) -> int:
        if self._runner is not None:
            raise CellError("the API proxy is already running")
        server = web.Server(self._handle, handler_cancellation=True)
        runner = web.ServerRunner(server, handle_signals=False)
        await runner.setup()
        site = web.TCPSite(
            runner, self.config.host, self.config.port, ssl_context=self._ssl_context()
        )
        await site.start()
        self._runner = runner
        port = _site_port(site)
        self.port = port if port is not None else self.config.port
        log.info("API proxy listening on %s", self.url)
        return self.port

    async def stop(self) -> None:
        runner, self._runner = self._runner, None
        if runner is not None:
            await runner.cleanup()

    # ---- requests ------------------------------------------------------------------------

    async def _handle(self, request: web.BaseRequest) -> web.StreamResponse:
        path = request.path
        if path == "/v1/clusters" and request.method == "GET":
            return await self._list_clusters(request)
        if path.startswith("/clusters/"):
            cluster, _, rest = path.removeprefix("/clusters/").partition("/")
            if cluster:
                return await self._proxy(request, cluster, "/" + rest)
        return status_response(404, "NotFound", f"no such path {path!r}: use /clusters/<name>/...")

    async def _authenticate(self, request: web.BaseRequest) -> Caller:
        token = bearer_token(request.headers.get("Authorization"))
        return await self._authenticator.authenticate(token)

    async def _list_clusters(self, request: web.BaseRequest) -> web.StreamResponse:
        try:
            caller = await self._authenticate(request)
        except AuthenticationError as exc:
            return status_response(401, "Unauthorized", str(exc))
        reachable = []
        for name in self._tunnels.reachable():
            labels = self._registry.labels_of(name) or {}
            batch = [
                cedar_requests.cluster_access(caller.user, caller.groups, name, labels, verb)
                for verb in cedar_schema.VERBS
            ]
            if any(d.allowed for d in self._authorizer.authorize_batch(batch)):
                reachable.append({"name": name, "labels": labels})
        body = {"user": caller.user, "groups": list(caller.groups), "clusters": reachable}
        return web.json_response(body)

    def _cedar_request(
        self, caller: Caller, cluster: str, info: RequestInfo, remote: str | None
    ) -> Request | None:
        labels = self._registry.labels_of(cluster) or {}
        return self._requests.request_for(caller, cluster, labels, info, remote)

    async def _proxy(self, request: web.BaseRequest, cluster: str, path: str) -> web.StreamResponse:
        target = path + (f"?{request.query_string}" if request.query_string else "")
        audit: dict[str, Any] = {
            "cluster": cluster,
            "method": request.method,
            "path": target,
            "sourceIp": request.remote or "",
        }
        try:
            caller = await self._authenticate(request)
        except AuthenticationError as exc:
            self.audit.record("unauthenticated", {**audit, "reason": str(exc)})
            return status_response(401, "Unauthorized", str(exc))
        info = parse_request(request.method, target)
        audit.update(user=caller.user, groups=list(caller.groups), request=info.describe())
        cedar = self._cedar_request(caller, cluster, info, request.remote)
        if cedar is None:
            message = f"{info.verb} {info.path} is not allowed through the proxy"
            self.audit.record("deny", {**audit, "reason": message})
            return status_response(403, "Forbidden", message)
        decision = self._authorizer.authorize(cedar)
        audit.update(verb=cedar.action, reason=decision.reason, policies=list(decision.policies))
        audit.update(apiGroup=info.api_group, resource=info.resource, namespace=info.namespace)
        upgrade = upgrade_protocol(request.headers)
        if upgrade:
            audit["upgrade"] = upgrade
        if not decision.allowed:
            self.audit.record("deny", audit)
            message = denial_message(cedar, decision.reason)
            return status_response(
                403, "Forbidden", message, group=info.api_group, kind=info.resource, name=info.name
            )
        self.audit.record("allow", audit)
        start = pb.ProxyStart(
            cluster=cluster,
            method=request.method,
            path=target,
            user=caller.user,
            groups=caller.groups,
            timeout_ms=0 if _streaming(request, info) else int(self.config.request_timeout * 1000),
        )
        _add_client_headers(start, request)
        try:
            if upgrade:  # exec, attach, port-forward
                return await relay_upgrade(
                    request,
                    start,
                    self._tunnels,
                    head_timeout=self.config.head_timeout,
                    idle_timeout=self.config.upgrade_idle_timeout,
                )
            return await self._relay(request, start)
        except CellError as exc:
            return status_response(503, "ServiceUnavailable", str(exc))

    def _too_large(self) -> web.Response:
        message = f"request body over {self.config.max_body} bytes"
        return status_response(413, "RequestEntityTooLarge", message)

    async def _small_body(self, request: web.BaseRequest) -> bytes | None:
        """The whole body when it is small and sized (one frame carries it), else ``None``:
        it streams (:meth:`_upload`)."""
        if not request.body_exists:
            return b""
        length = request.content_length
        if length is not None and length <= MAX_CHUNK:
            return await request.read()
        return None

    async def _upload(self, request: web.BaseRequest, stream: TunnelStream) -> bool:
        """Stream the request body as the client sends it, waiting for credit; ``False``
        (and the stream cancelled) when it grows past ``max_body``."""
        total = 0
        async for piece in request.content.iter_chunked(MAX_CHUNK):
            total += len(piece)
            if total > self.config.max_body:
                await stream.cancel(f"request body over {self.config.max_body} bytes")
                return False
            await stream.send_data(piece)
        await stream.send_end()
        return True

    async def _relay(self, request: web.BaseRequest, start: pb.ProxyStart) -> web.StreamResponse:
        length = request.content_length
        if length is not None and length > self.config.max_body:
            return self._too_large()
        body = await self._small_body(request)
        async with self._tunnels.open(start, body) as stream:
            upload = None
            if body is None:  # a task only for a body that streams
                upload = asyncio.create_task(self._upload(request, stream))
            try:
                return await self._answer(request, start, stream, upload)
            finally:
                if upload is not None:
                    upload.cancel()
                    await asyncio.gather(upload, return_exceptions=True)

    async def _answer(
        self,
        request: web.BaseRequest,
        start: pb.ProxyStart,
        stream: TunnelStream,
        upload: asyncio.Task[bool] | None,
    ) -> web.StreamResponse:
        """Wait for the far API server's head (while the body may still upload), then
        copy its answer to the client."""
        try:
            async with asyncio.timeout(self.config.head_timeout):
                head = await _head(stream)
        except TimeoutError:
            wait = self.config.head_timeout
            message = f"cluster {start.cluster!r} did not answer in {wait:g}s"
            await stream.cancel(message)
            return status_response(504, "Timeout", message)
        except StreamCancelled as exc:
            if upload is not None and _refused_as_too_large(upload):
                return self._too_large()
            return status_response(502, "ServiceUnavailable", f"the tunnel broke: {exc}")
        headers = [(h.name, h.value) for h in head.headers if h.name.lower() not in HOP_BY_HOP]
        if stream.peer_done:  # the whole answer is here: one write, with its length
            answer = web.Response(
                status=head.status, body=await stream.read_body(stream.window)
            )
            for name, value in headers:
                answer.headers.add(name, value)
            return answer
        response = web.StreamResponse(status=head.status)
        for name, value in headers:
            response.headers.add(name, value)
        await response.prepare(request)
        await _copy_body(stream, response)
        return response


def _refused_as_too_large(upload: asyncio.Task[bool]) -> bool:
    """Whether the upload stopped the stream because the body grew past the limit."""
    if not upload.done() or upload.cancelled() or upload.exception() is not None:
        return False
    return upload.result() is False


async def _head(stream: TunnelStream) -> pb.ProxyHead:
    while True:
        frame = await stream.receive()
        if frame.WhichOneof("kind") == "head":
            return frame.head


async def _copy_body(stream: TunnelStream, response: web.StreamResponse) -> None:
    """Copy the response body; a broken tunnel ends the response without its final chunk,
    so the client sees a truncated body, never a complete-looking one."""
    try:
        while True:
            frame = await stream.receive()
            kind = frame.WhichOneof("kind")
            if kind == "data":
                await response.write(frame.data)
            elif kind == "end":
                await response.write_eof()
                return
            elif kind == "head":
                raise StreamCancelled("a second response head")
    except StreamCancelled as exc:
        log.info("proxied response on stream %s cut: %s", stream.stream_id, exc)
        raise ConnectionResetError(str(exc)) from exc


def _site_port(site: web.TCPSite) -> int | None:
    """The port a started site listens on (useful with port 0)."""
    server = site._server  # aiohttp keeps the asyncio server private
    sockets: Sequence[Any] = getattr(server, "sockets", None) or ()
    for sock in sockets:
        return int(sock.getsockname()[1])
    return None
