"""The agent: dials its parent's cell, says hello, beats, reports, answers, renews, reconnects.

Runs in every child cluster. It never listens on a port: it opens one mTLS ``grpc.aio``
channel to the cell, holds the Connect stream, and when the stream breaks it backs off
(jittered, bounded) and dials again, re-sending Hello, a heartbeat and its subtree. Events
emitted meanwhile wait in a bounded buffer. Before its certificate expires it renews over
the same channel and reconnects with the new one.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
import uuid
from collections.abc import Callable, Coroutine
from typing import Any

import grpc

from lattice_pulumi import pki
from lattice_pulumi.agent import commands, proxy
from lattice_pulumi.agent.backoff import Backoff
from lattice_pulumi.agent.config import AgentConfig
from lattice_pulumi.agent.credentials import AgentCredentials
from lattice_pulumi.agent.events import EventBuffer
from lattice_pulumi.agent.outgoing import OutgoingFlows
from lattice_pulumi.agent.status import StatusSource
from lattice_pulumi.errors import LatticeError
from lattice_pulumi.protocol import (
    ProtocolVersion,
    ProtocolVersionError,
    channel_options,
    check_compatible,
    pb,
    pb_grpc,
)
from lattice_pulumi.protocol.tunnel import (
    StreamCancelled,
    StreamTable,
    TunnelStream,
    clamp_window,
)

__all__ = ["Agent", "AgentError"]

log = logging.getLogger(__name__)

MAX_EVENT_MESSAGE = 4096  # characters; longer event messages are truncated

_PERMANENT = {
    grpc.StatusCode.PERMISSION_DENIED: "the cell refused this agent's identity",
    grpc.StatusCode.UNAUTHENTICATED: "the cell did not accept this agent's certificate",
}


class AgentError(LatticeError):
    """A failure retrying cannot fix (identity refused, certificate unusable)."""


class _Renewed(Exception):
    """Internal: the certificate was renewed, reconnect at once with the new one."""


class _SessionLost(Exception):
    """Internal: the session ended without a gRPC error; back off and dial again."""


class Agent:
    """One agent session loop; :meth:`run` until :meth:`stop` or a permanent error."""

    def __init__(
        self,
        config: AgentConfig,
        credentials: AgentCredentials,
        status: StatusSource,
        *,
        subtree: Callable[[], pb.SubtreeState] | None = None,
        handler: commands.CommandHandler | None = None,
        rng: random.Random | None = None,
        kube_proxy: proxy.Backend | None = None,
        forward: proxy.Backend | None = None,
    ) -> None:
        """``kube_proxy`` answers tunnelled API requests for this cluster (see
        :class:`lattice_pulumi.agent.proxy.KubeProxy`); ``forward`` those for clusters below
        it (given by a mid-level cell). Without them such requests get a 502 Status."""
        self.config = config
        self.events = EventBuffer(config.event_buffer_size)
        self.backoff = Backoff(config.backoff_initial, config.backoff_max, rng=rng)
        self.connected = asyncio.Event()
        self.sessions = 0  # sessions the cell welcomed
        self.renewals = 0
        self._credentials = credentials
        self._status = status
        self._subtree = subtree
        self._handler = handler
        self._stopping = asyncio.Event()
        self._wake = asyncio.Event()
        self._outgoing = OutgoingFlows(self.events)
        self._sequence = 0
        self._kube_proxy = kube_proxy
        self._forward = forward
        self._streams = StreamTable()

    @property
    def credentials(self) -> AgentCredentials:
        return self._credentials

    @property
    def proxy_streams(self) -> list[TunnelStream]:
        """The tunnelled requests this agent is answering now."""
        return self._streams.get_streams()

    def emit(
        self,
        reason: str,
        message: str,
        *,
        severity: pb.Event.Severity = pb.Event.SEVERITY_NORMAL,
        obj: str = "",
        occurred_unix_ms: int = 0,
    ) -> None:
        """Queue an event for the cell; kept (bounded) while disconnected."""
        if len(message) > MAX_EVENT_MESSAGE:
            message = message[: MAX_EVENT_MESSAGE - 3] + "..."
        self.events.push(
            pb.Event(
                severity=severity,
                reason=reason,
                message=message,
                object=obj,
                occurred_unix_ms=occurred_unix_ms,
            )
        )
        self._wake.set()

    async def stop(self) -> None:
        self._stopping.set()

    async def run(self) -> None:
        """Hold a session with the cell, reconnecting until stopped.

        Raises :class:`ProtocolVersionError` or :class:`AgentError` when the cell refuses
        this agent for a reason that retrying cannot fix. On the way out the API server
        connections of ``kube_proxy`` are closed (it opens them again if run again).
        """
        try:
            await self._run_sessions()
        finally:
            close = getattr(self._kube_proxy, "aclose", None)
            if close is not None:
                await close()

    async def _run_sessions(self) -> None:
        while not self._stopping.is_set():
            try:
                await self._session()
            except _Renewed:
                continue
            except grpc.aio.AioRpcError as exc:
                self._raise_if_permanent(exc)
                log.warning("session with cell ended: %s %s", exc.code().name, exc.details())
            except (TimeoutError, asyncio.InvalidStateError, _SessionLost) as exc:
                log.warning("session with cell at %s lost: %s", self.config.endpoint, exc)
            finally:
                self.connected.clear()
            delay = self.backoff.next_delay()
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(delay):
                    await self._stopping.wait()

    @staticmethod
    def _raise_if_permanent(exc: grpc.aio.AioRpcError) -> None:
        code = exc.code()
        if code == grpc.StatusCode.FAILED_PRECONDITION:
            raise ProtocolVersionError(exc.details()) from exc
        if code in _PERMANENT:
            raise AgentError(f"{_PERMANENT[code]}: {exc.details()}") from exc

    def _channel(self) -> grpc.aio.Channel:
        options: list[tuple[str, Any]] = channel_options(self.config.max_message_bytes, client=True)
        if self.config.tls_server_name:
            options.append(("grpc.ssl_target_name_override", self.config.tls_server_name))
        return grpc.aio.secure_channel(
            self.config.endpoint, self._credentials.channel_credentials(), options=options
        )

    async def _session(self) -> None:
        async with self._channel() as channel:
            stub = pb_grpc.AgentServiceStub(channel)
            call = stub.Connect()
            try:
                await self._handshake(call)
                self.sessions += 1
                self.backoff.reset()
                self.connected.set()
                await self._serve(call, stub)
            finally:
                call.cancel()

    async def _handshake(self, call: Any) -> None:
        self._sequence = 0
        self._outgoing.clear()
        hello = pb.Hello(
            protocol=self.config.protocol.to_proto(),
            agent_version=self.config.agent_version,
            kubernetes_version=(
                getattr(self._status, "kubernetes_version", "") or self.config.kubernetes_version
            ),
            session_id=uuid.uuid4().hex,
            provider=self.config.provider,
            role=self.config.role,
            labels=dict(self.config.labels),
        )
        first = self._envelope()
        first.hello.CopyFrom(hello)
        await call.write(first)
        async with asyncio.timeout(self.config.connect_timeout):
            reply = await call.read()
        if reply is grpc.aio.EOF or reply.WhichOneof("body") != "welcome":
            raise _SessionLost("the cell did not answer Hello with Welcome")
        cell = ProtocolVersion.from_proto(reply.welcome.protocol)
        check_compatible(self.config.protocol, cell, remote_role="cell")
        log.info("connected to cell %s (protocol %s)", self.config.endpoint, cell)

    async def _serve(self, call: Any, stub: Any) -> None:
        tasks = [
            asyncio.create_task(self._write_loop(call)),
            asyncio.create_task(self._heartbeat_loop()),
            asyncio.create_task(self._read_loop(call)),
            asyncio.create_task(self._renew_loop(stub)),
            asyncio.create_task(self._stopping.wait()),
        ]
        try:
            done, _ = await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
        finally:
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
        for task in done:
            error = None if task.cancelled() else task.exception()
            if error is not None:
                raise error

    def _envelope(self) -> pb.AgentMessage:
        return pb.AgentMessage(cluster=self.config.cluster)

    def _send(self, message: pb.AgentMessage) -> None:
        self._outgoing.control.append(message)
        self._wake.set()

    async def _write_loop(self, call: Any) -> None:
        while True:
            chosen = self._outgoing.next(self._envelope())
            if chosen is None:
                self._wake.clear()
                await self._wake.wait()
                continue
            message, event = chosen
            self._sequence += 1
            message.sequence = self._sequence
            try:
                await call.write(message)
            except BaseException:
                if event is not None:
                    self.events.requeue(event)
                raise

    async def _heartbeat_loop(self) -> None:
        last_subtree: pb.SubtreeState | None = None
        while True:
            beat = self._envelope()
            beat.heartbeat.CopyFrom(self._status.heartbeat())
            self._send(beat)
            if self._subtree is not None:
                snapshot = self._subtree()
                if snapshot != last_subtree:
                    report = self._envelope()
                    report.subtree.CopyFrom(snapshot)
                    self._send(report)
                    last_subtree = snapshot
            await asyncio.sleep(self.config.heartbeat_interval)

    async def _read_loop(self, call: Any) -> None:
        running: set[asyncio.Task[None]] = set()
        self._streams = StreamTable()
        try:
            while True:
                command = await call.read()
                if command is grpc.aio.EOF:
                    return
                if command.WhichOneof("body") == "proxy":
                    coro = self._proxy_frame(command.proxy)
                    if coro is None:
                        continue
                    task = asyncio.create_task(coro)
                else:
                    task = asyncio.create_task(self._answer(command))
                running.add(task)
                task.add_done_callback(running.discard)
        finally:
            self._streams.abandon_all("the session with the cell ended")
            for task in running:
                task.cancel()
            await asyncio.gather(*running, return_exceptions=True)

    def _proxy_frame(self, frame: pb.ProxyFrame) -> Coroutine[Any, Any, None] | None:
        """Deliver a frame to its stream; a start frame gives the coroutine serving it."""
        if frame.WhichOneof("kind") != "start":
            self._streams.deliver(frame)  # frames of a finished stream are dropped
            return None
        stream = TunnelStream(frame.stream_id, self._send_proxy, clamp_window(frame.start.window))
        try:
            self._streams.add(stream)
        except StreamCancelled as exc:
            refused = pb.ProxyFrame(stream_id=frame.stream_id)
            refused.cancel.reason = str(exc)
            return self._send_proxy(refused)
        if frame.last:  # no request body follows
            stream.deliver(pb.ProxyFrame(stream_id=frame.stream_id, end=pb.ProxyEnd()))
        return self._serve_stream(frame.start, stream)

    async def _serve_stream(self, start: pb.ProxyStart, stream: TunnelStream) -> None:
        try:
            await proxy.serve_stream(
                self.config.cluster, start, stream, self._kube_proxy, self._forward
            )
        finally:
            self._streams.remove(stream)

    async def _send_proxy(self, frame: pb.ProxyFrame) -> None:
        message = self._envelope()
        message.proxy.CopyFrom(frame)
        self._outgoing.proxy.append(message)
        self._wake.set()

    async def _answer(self, command: pb.CellCommand) -> None:
        reply = await commands.answer(command, self._status, self._subtree, self._handler)
        if reply is not None:
            message = self._envelope()
            message.reply.CopyFrom(reply)
            self._send(message)

    async def _renew_loop(self, stub: Any) -> None:
        retry = Backoff(self.config.backoff_initial, self.config.backoff_max)
        identity = pki.ClusterIdentity(self.config.cluster)
        while True:
            wait = self._credentials.seconds_until_renewal(self.config.renew_at_fraction)
            await asyncio.sleep(wait)
            key = pki.generate_private_key()
            request = pb.RenewRequest(csr_pem=pki.build_csr(key, identity))
            try:
                response = await stub.Renew(request, timeout=self.config.connect_timeout)
                self._credentials = AgentCredentials.issued(
                    key, response.certificate_pem, response.ca_bundle_pem
                )
            except (grpc.aio.AioRpcError, pki.CertificateError) as exc:
                log.warning("certificate renewal failed, will retry: %s", exc)
                await asyncio.sleep(retry.next_delay())
                continue
            self.renewals += 1
            log.info("renewed client certificate (serial %x)", self._credentials.serial)
            raise _Renewed
