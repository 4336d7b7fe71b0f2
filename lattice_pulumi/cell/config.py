"""Settings of a cell: where it listens, which protocol it speaks, what it signs."""

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
