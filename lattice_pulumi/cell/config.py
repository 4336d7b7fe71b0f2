"""Settings of a cell: where it listens, which protocol it speaks, what it signs, how long
it waits for heartbeats, how many commands it queues per child, and what the bootstrap
bundles it serves tell new children (:meth:`CellConfig.agent_parent`)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from lattice_pulumi import __version__
from lattice_pulumi.cell.errors import CellError
from lattice_pulumi.compile.agent import AGENT_IMAGE, AgentParent
from lattice_pulumi.pki import DEFAULT_TRUST_DOMAIN
from lattice_pulumi.protocol import CURRENT, DEFAULT_MAX_MESSAGE_BYTES, ProtocolVersion

__all__ = ["CellConfig"]

_WILDCARDS = {"", "0.0.0.0", "::", "[::]"}


@dataclass(frozen=True)
class CellConfig:
    """Everything :class:`lattice_pulumi.cell.server.CellServer` needs besides its keys."""

    name: str
    host: str = "127.0.0.1"
    port: int = 0
    trust_domain: str = DEFAULT_TRUST_DOMAIN
    protocol: ProtocolVersion = CURRENT
    cell_version: str = __version__
    max_message_bytes: int = DEFAULT_MAX_MESSAGE_BYTES
    client_certificate_lifetime: timedelta = timedelta(hours=24)
    hello_timeout: float = 10.0
    # A child whose last heartbeat is older than this is marked disconnected and its
    # session closed (three default heartbeat intervals).
    heartbeat_grace: float = 30.0
    # Commands waiting to be written to one child; a full queue refuses new commands.
    command_queue_size: int = 64
    # How the cell's own cluster appears at the top of its fleet view.
    provider: str = ""
    kubernetes_version: str = ""
    role: str = "root"  # "parent" when this cell's cluster reports to a cell of its own
    # What children's bootstrap bundles (GET /v1/bootstrap/<cluster>) tell their agents.
    # Empty: where this cell listens, which only works when children reach that address.
    advertise_endpoint: str = ""  # gRPC host:port as children dial it
    advertise_enrol_url: str = ""  # https://host:port/v1/enrol as children reach it
    agent_image: str = AGENT_IMAGE
    agent_heartbeat_interval: float = 10.0
    agent_tls_server_name: str | None = None  # when children dial a name not in the cert

    def __post_init__(self) -> None:
        if self.agent_heartbeat_interval <= 0:
            raise ValueError("agent_heartbeat_interval must be positive")
        if self.heartbeat_grace <= 0:
            raise ValueError("heartbeat_grace must be positive")
        if self.command_queue_size <= 0:
            raise ValueError("command_queue_size must be positive")

    def agent_parent(
        self, *, grpc_endpoint: str, enrol_url: str, ca_bundle_pem: str
    ) -> AgentParent:
        """The facts a child's agent bundle carries, given where this cell actually listens.

        ``advertise_*`` win over the listening addresses; a wildcard listening address (such as
        ``0.0.0.0``) cannot be advertised, so it raises :class:`CellError` naming the setting.
        """
        endpoint = self.advertise_endpoint or grpc_endpoint
        url = self.advertise_enrol_url or enrol_url
        host = endpoint.rpartition(":")[0]
        if not self.advertise_endpoint and host in _WILDCARDS:
            raise CellError(
                f"the cell listens on {endpoint}, which children cannot dial: "
                "set advertise_endpoint to the host:port they reach"
            )
        url_host = url.removeprefix("https://").partition("/")[0].rpartition(":")[0]
        if not self.advertise_enrol_url and url_host in _WILDCARDS:
            raise CellError(
                f"the enrolment server listens on {url}, which children cannot reach: "
                "set advertise_enrol_url"
            )
        return AgentParent(
            endpoint=endpoint,
            enrol_url=url,
            ca_pem=ca_bundle_pem,
            image=self.agent_image,
            heartbeat_interval=self.agent_heartbeat_interval,
            tls_server_name=self.agent_tls_server_name,
        )
