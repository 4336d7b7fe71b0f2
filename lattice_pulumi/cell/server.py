"""The cell's gRPC server: mTLS-only ``grpc.aio`` server hosting :class:`AgentService` and
the operators' read API :class:`FleetService`.

Used by the parent cluster's operator, ``lattice cell serve`` and tests on loopback. Clients
without a certificate signed by the cell's trust bundle never reach a servicer; the agent
servicer then binds each session to the certificate's cluster identity, the fleet servicer
accepts operator identities only. :meth:`CellServer.request` queues a command for one child
without waiting for room (a full queue is an error) and waits for its reply. A background
task closes sessions that stopped sending heartbeats.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import uuid
from collections.abc import Callable
from types import TracebackType

import grpc

from lattice_pulumi import pki
from lattice_pulumi.cell.config import CellConfig
from lattice_pulumi.cell.errors import CellError
from lattice_pulumi.cell.fleet import FleetService
from lattice_pulumi.cell.registry import ClusterRegistry
from lattice_pulumi.cell.service import AgentService
from lattice_pulumi.cell.tunnel import ProxyTunnels
from lattice_pulumi.protocol import channel_options, pb, pb_grpc

__all__ = ["CellError", "CellServer"]

log = logging.getLogger(__name__)


class CellServer:
    """Start, stop and talk through the cell's gRPC endpoint."""

    def __init__(
        self,
        config: CellConfig,
        authority: pki.CellAuthority,
        server_certificate: pki.IssuedCertificate,
        registry: ClusterRegistry | None = None,
        *,
        status: Callable[[], pb.Heartbeat] | None = None,
    ) -> None:
        """``status`` gives the state and health of the cell's own cluster, if known."""
        self.config = config
        self.authority = authority
        self.registry = registry if registry is not None else ClusterRegistry(config.name)
        self._server_certificate = server_certificate
        self._service = AgentService(config, authority, self.registry)
        self.fleet = FleetService(config, self.registry, status)
        self.tunnels = ProxyTunnels(self._service, self.registry)
        self._server: grpc.aio.Server | None = None
        self._liveness: asyncio.Task[None] | None = None
        self.port = 0

    @property
    def endpoint(self) -> str:
        return f"{self.config.host}:{self.port}"

    async def start(self) -> int:
        """Bind and start serving; returns the port (useful with ``port=0``)."""
        if self._server is not None:
            raise CellError("cell server is already running")
        server = grpc.aio.server(options=channel_options(self.config.max_message_bytes))
        pb_grpc.add_AgentServiceServicer_to_server(self._service, server)
        pb_grpc.add_FleetServiceServicer_to_server(self.fleet, server)
        credentials = grpc.ssl_server_credentials(
            [(self._server_certificate.key_pem(), self._server_certificate.certificate_pem())],
            root_certificates=self.authority.bundle().pem(),
            require_client_auth=True,
        )
        port: int = server.add_secure_port(f"{self.config.host}:{self.config.port}", credentials)
        if port == 0:
            raise CellError(f"cannot listen on {self.config.host}:{self.config.port}")
        await server.start()
        self._server, self.port = server, port
        self._liveness = asyncio.create_task(self._expire_silent_children())
        log.info("cell %s listening on %s", self.config.name, self.endpoint)
        return port

    async def stop(self, grace: float | None = None) -> None:
        """Stop serving; open sessions end (agents reconnect elsewhere or later)."""
        server, self._server = self._server, None
        liveness, self._liveness = self._liveness, None
        if liveness is not None:
            liveness.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await liveness
        if server is None:
            return
        for session in list(self._service.sessions.values()):
            session.closed.set()
        await server.stop(grace)

    async def __aenter__(self) -> CellServer:
        await self.start()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.stop(None)

    async def _expire_silent_children(self) -> None:
        interval = min(1.0, self.config.heartbeat_grace / 4)
        while True:
            await asyncio.sleep(interval)
            self._service.expire_silent()

    def connected(self) -> list[str]:
        """Names of the children with a live session (sorted)."""
        return sorted(self._service.sessions)

    async def request(
        self, cluster: str, command: pb.CellCommand, timeout: float = 30.0
    ) -> pb.CommandReply:
        """Send ``command`` to ``cluster`` and wait for its reply.

        Never waits for room in the child's queue: when ``command_queue_size`` commands are
        already waiting (the agent stopped reading) this raises :class:`CellError` at once.
        """
        session = self._service.sessions.get(cluster)
        if session is None:
            raise CellError(f"cluster {cluster!r} is not connected")
        sent = pb.CellCommand()
        sent.CopyFrom(command)
        sent.request_id = uuid.uuid4().hex
        try:
            session.queue_command(sent)
        except asyncio.QueueFull:
            raise CellError(
                f"command queue of cluster {cluster!r} is full "
                f"({session.outbox.maxsize} commands waiting): the agent is not reading; "
                "try again later"
            ) from None
        future: asyncio.Future[pb.CommandReply] = asyncio.get_running_loop().create_future()
        session.pending[sent.request_id] = future
        try:
            async with asyncio.timeout(timeout):
                return await future
        except TimeoutError:
            raise CellError(f"cluster {cluster!r} did not answer within {timeout:g}s") from None
        finally:
            session.pending.pop(sent.request_id, None)
