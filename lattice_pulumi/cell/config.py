"""Settings of a cell: where it listens, which protocol it speaks, what it signs, and how
long it waits for heartbeats and how many commands it queues per child."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from lattice_pulumi import __version__
from lattice_pulumi.pki import DEFAULT_TRUST_DOMAIN
from lattice_pulumi.protocol import CURRENT, DEFAULT_MAX_MESSAGE_BYTES, ProtocolVersion

__all__ = ["CellConfig"]


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

    def __post_init__(self) -> None:
        if self.heartbeat_grace <= 0:
            raise ValueError("heartbeat_grace must be positive")
        if self.command_queue_size <= 0:
            raise ValueError("command_queue_size must be positive")
