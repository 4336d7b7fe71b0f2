"""The cell's ``AgentService``: one session per connected agent, bound to its certificate.

Every message on a session is checked against the cluster identity read from the peer
certificate in the gRPC auth context; a message claiming another cluster ends the session
with PERMISSION_DENIED and a warning in the log. Version skew is checked on Hello.

Each session has its own reader and writer tasks and a bounded outbox, so a child that stops
reading only fills its own queue (see ``CellServer.request``); its heartbeats are still read
and nobody else waits. A session whose heartbeats stop for ``heartbeat_grace`` seconds is
closed by :meth:`AgentService.expire_silent` and the child marked disconnected.
:class:`lattice_pulumi.cell.server.CellServer` owns the gRPC server this servicer runs in.
"""

from __future__ import annotations

import asyncio
import logging
import time
import uuid
from collections import deque
from dataclasses import dataclass, field
from typing import Any

import grpc

from lattice_pulumi import pki
from lattice_pulumi.cell.config import CellConfig
from lattice_pulumi.cell.errors import CellError
from lattice_pulumi.cell.registry import ClusterRegistry
from lattice_pulumi.protocol import (
    CURRENT,
    ProtocolVersion,
    ProtocolVersionError,
    check_compatible,
    pb,
)
from lattice_pulumi.protocol.tunnel import StreamTable

__all__ = ["AgentService", "Session"]

log = logging.getLogger(__name__)


class _Rejected(Exception):
    """Ends a session with a gRPC status; raised inside the session's tasks."""

    def __init__(self, code: grpc.StatusCode, details: str) -> None:
        super().__init__(details)
        self.code = code
        self.details = details


@dataclass
class Session:
    """One live Connect stream: its two outbound flows and the replies it is waiting for.

    Commands wait in ``outbox`` (bounded: a full one refuses new commands); frames of
    tunnelled API requests in ``proxy_out``, which needs no bound of its own because every
    stream's body bytes are limited by its credit window and the streams by the table. The
    writer takes commands first, so a burst of proxy frames delays a command by one frame
    at most, and proxy traffic never fills the command queue.
    """

    cluster: str
    session_id: str
    outbox: asyncio.Queue[pb.CellCommand]
    pending: dict[str, asyncio.Future[pb.CommandReply]] = field(default_factory=dict)
    closed: asyncio.Event = field(default_factory=asyncio.Event)
    last_heartbeat: float = field(default_factory=time.monotonic)  # monotonic seconds
    protocol: ProtocolVersion = CURRENT
    # Tunnelled API requests open on this session (see lattice_pulumi.cell.tunnel).
    streams: StreamTable = field(default_factory=StreamTable)
    proxy_out: deque[pb.CellCommand] = field(default_factory=deque)
    wake: asyncio.Event = field(default_factory=asyncio.Event)  # something to write

    def queue_command(self, command: pb.CellCommand) -> None:
        """Queue a command; raises ``asyncio.QueueFull`` when ``outbox`` is full."""
        self.outbox.put_nowait(command)
        self.wake.set()

    def queue_proxy(self, frame: pb.ProxyFrame) -> None:
        """Queue a frame of a tunnelled request (never waits: credits bound them)."""
        self.proxy_out.append(pb.CellCommand(proxy=frame))
        self.wake.set()

    def next_outgoing(self) -> pb.CellCommand | None:
        """What to write next: a command if one waits, else a proxy frame."""
        if not self.outbox.empty():
            return self.outbox.get_nowait()
        if self.proxy_out:
            return self.proxy_out.popleft()
        return None


class AgentService:
    """Servicer registered with ``pb_grpc.add_AgentServiceServicer_to_server``."""

    def __init__(
        self, config: CellConfig, authority: pki.CellAuthority, registry: ClusterRegistry
    ) -> None:
        self._config = config
        self._authority = authority
        self._registry = registry
        self.sessions: dict[str, Session] = {}

    def _identify(self, context: Any) -> tuple[pki.ClusterIdentity, str]:
        auth = context.auth_context()
        pems = auth.get("x509_pem_cert") or []
        if len(pems) != 1:
            raise _Rejected(grpc.StatusCode.UNAUTHENTICATED, "a client certificate is required")
        try:
            cert = pki.load_certificate(pems[0])
            identity = pki.identity_from_certificate(cert, self._config.trust_domain)
        except pki.CertificateError as exc:
            raise _Rejected(grpc.StatusCode.UNAUTHENTICATED, str(exc)) from exc
        return identity, pki.fingerprint(cert)

    @staticmethod
    def _bind(msg: pb.AgentMessage, identity: pki.ClusterIdentity) -> None:
        if msg.cluster != identity.name:
            log.warning(
                "rejected message from cluster %s claiming to be %r", identity.name, msg.cluster
            )
            raise _Rejected(
                grpc.StatusCode.PERMISSION_DENIED,
                f"certificate identifies cluster {identity.name!r} "
                f"but the message claims {msg.cluster!r}",
            )

    async def Connect(self, request_iterator: Any, context: Any) -> None:  # noqa: N802
        try:
            identity, fingerprint = self._identify(context)
            await self._serve(context, identity, fingerprint)
        except _Rejected as exc:
            await context.abort(exc.code, exc.details)

    async def _serve(self, context: Any, identity: pki.ClusterIdentity, fingerprint: str) -> None:
        try:
            async with asyncio.timeout(self._config.hello_timeout):
                first = await context.read()
        except TimeoutError:
            raise _Rejected(grpc.StatusCode.DEADLINE_EXCEEDED, "no Hello received") from None
        if first is grpc.aio.EOF:
            return
        self._bind(first, identity)
        if first.WhichOneof("body") != "hello":
            raise _Rejected(grpc.StatusCode.INVALID_ARGUMENT, "the first message must be Hello")
        remote = ProtocolVersion.from_proto(first.hello.protocol)
        try:
            check_compatible(self._config.protocol, remote, remote_role="agent")
        except ProtocolVersionError as exc:
            log.warning("refused agent of cluster %s: %s", identity.name, exc)
            raise _Rejected(grpc.StatusCode.FAILED_PRECONDITION, str(exc)) from exc

        session = Session(
            identity.name,
            uuid.uuid4().hex,
            asyncio.Queue(self._config.command_queue_size),
            protocol=remote,
        )
        previous = self.sessions.get(identity.name)
        if previous is not None:
            previous.closed.set()
        self.sessions[identity.name] = session
        self._registry.connected(identity.name, first.hello, session.session_id, fingerprint)
        log.info("cluster %s connected (protocol %s)", identity.name, remote)
        welcome = pb.Welcome(
            protocol=self._config.protocol.to_proto(), cell_version=self._config.cell_version
        )
        await context.write(pb.CellCommand(welcome=welcome))
        try:
            await self._pump(context, identity, session)
        finally:
            if self.sessions.get(identity.name) is session:
                del self.sessions[identity.name]
            session.streams.abandon_all(f"cluster {identity.name!r} disconnected")
            for future in session.pending.values():
                if not future.done():
                    future.set_exception(
                        CellError(f"cluster {identity.name!r} disconnected before answering")
                    )
            self._registry.disconnected(identity.name, session.session_id)
            log.info("cluster %s disconnected", identity.name)

    async def _pump(self, context: Any, identity: pki.ClusterIdentity, session: Session) -> None:
        tasks = [
            asyncio.create_task(self._read_loop(context, identity, session)),
            asyncio.create_task(self._write_loop(context, session)),
            asyncio.create_task(session.closed.wait()),
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

    async def _read_loop(
        self, context: Any, identity: pki.ClusterIdentity, session: Session
    ) -> None:
        name = identity.name
        while True:
            msg = await context.read()
            if msg is grpc.aio.EOF:
                return
            self._bind(msg, identity)
            kind = msg.WhichOneof("body")
            if kind == "heartbeat":
                session.last_heartbeat = time.monotonic()
                self._registry.heartbeat(name, msg.heartbeat)
            elif kind == "subtree":
                self._registry.subtree(name, msg.subtree)
            elif kind == "event":
                self._registry.event(name, msg.event)
            elif kind == "proxy":
                session.streams.deliver(msg.proxy)  # frames of a finished stream are dropped
            elif kind == "reply":
                future = session.pending.pop(msg.reply.request_id, None)
                if future is not None and not future.done():
                    future.set_result(msg.reply)
            elif kind == "hello":
                raise _Rejected(grpc.StatusCode.INVALID_ARGUMENT, "Hello sent twice")
            else:  # a newer agent's message kind: skew rules say ignore it
                log.debug("ignored unknown message kind from cluster %s", name)

    def expire_silent(self, now: float | None = None) -> list[str]:
        """Close every session without a heartbeat for ``heartbeat_grace``; their clusters."""
        now = time.monotonic() if now is None else now
        expired: list[str] = []
        for name, session in list(self.sessions.items()):
            silent = now - session.last_heartbeat
            if silent <= self._config.heartbeat_grace or session.closed.is_set():
                continue
            log.warning("cluster %s sent no heartbeat for %.1fs: marked disconnected", name, silent)
            self._registry.disconnected(name, session.session_id)
            session.closed.set()
            expired.append(name)
        return expired

    @staticmethod
    async def _write_loop(context: Any, session: Session) -> None:
        while True:
            command = session.next_outgoing()
            if command is None:
                session.wake.clear()
                await session.wake.wait()
                continue
            await context.write(command)

    async def Renew(self, request: pb.RenewRequest, context: Any) -> pb.RenewResponse:  # noqa: N802
        try:
            identity, _ = self._identify(context)
            try:
                cert = self._authority.signer.sign_client_csr(
                    request.csr_pem,
                    identity,
                    lifetime=self._config.client_certificate_lifetime,
                )
            except pki.IdentityMismatchError as exc:
                log.warning("refused renewal for cluster %s: %s", identity.name, exc)
                raise _Rejected(grpc.StatusCode.PERMISSION_DENIED, str(exc)) from exc
            except pki.CertificateError as exc:
                raise _Rejected(grpc.StatusCode.INVALID_ARGUMENT, str(exc)) from exc
        except _Rejected as exc:
            await context.abort(exc.code, exc.details)
            raise AssertionError("unreachable: abort raises") from exc
        # The bundle is taken before recording: if this renewal completes a CA rotation the
        # agent must still trust the old CA until the cell's server certificate is re-issued.
        bundle = self._authority.bundle()
        self._authority.record_certificate(identity.name, cert)
        log.info("renewed certificate of cluster %s", identity.name)
        return pb.RenewResponse(
            certificate_pem=pki.certificate_pem(cert), ca_bundle_pem=bundle.pem()
        )
