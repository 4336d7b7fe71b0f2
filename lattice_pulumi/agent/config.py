"""Settings of an agent: which cell to dial, how often to beat, how to back off."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from lattice_pulumi import __version__
from lattice_pulumi.pki import validate_cluster_name
from lattice_pulumi.protocol import CURRENT, DEFAULT_MAX_MESSAGE_BYTES, ProtocolVersion

__all__ = ["AgentConfig"]


@dataclass(frozen=True)
class AgentConfig:
    """Everything :class:`lattice_pulumi.agent.client.Agent` needs besides its credentials."""

    cluster: str
    endpoint: str  # host:port of the parent's cell
    heartbeat_interval: float = 10.0
    connect_timeout: float = 10.0  # from dialling to the cell's Welcome
    backoff_initial: float = 0.5
    backoff_max: float = 30.0
    event_buffer_size: int = 1000
    renew_at_fraction: float = 2 / 3  # renew once this share of the lifetime has passed
    protocol: ProtocolVersion = CURRENT
    agent_version: str = __version__
    kubernetes_version: str = ""
    provider: str = ""  # infrastructure provider, as shown by `lattice get clusters`
    role: str = "leaf"  # "parent" when this cluster also runs a cell for children
    max_message_bytes: int = DEFAULT_MAX_MESSAGE_BYTES
    tls_server_name: str | None = None  # when the endpoint's host is not in the cell cert
    # The cluster's labels, told to the cell in Hello (Cedar policies read them as tags).
    labels: Mapping[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        validate_cluster_name(self.cluster)
        if self.heartbeat_interval <= 0:
            raise ValueError("heartbeat_interval must be positive")
        if not 0 < self.renew_at_fraction < 1:
            raise ValueError("renew_at_fraction must be between 0 and 1")
