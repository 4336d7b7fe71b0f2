"""The parent side of the agent channel: gRPC server, registry of children, enrolment,
and the HTTPS API proxy to every cluster below (authentication, Cedar, audit, tunnels).

Nothing here imports ``pulumi``; the in-cluster operator runs it.
"""

from lattice_pulumi.cell.audit import AuditLog
from lattice_pulumi.cell.authn import (
    AuthenticationError,
    Authenticator,
    Caller,
    TokenReviewAuthenticator,
)
from lattice_pulumi.cell.bundles import AgentBundles
from lattice_pulumi.cell.config import CellConfig
from lattice_pulumi.cell.enrolment import EnrolmentServer, TokenStore
from lattice_pulumi.cell.errors import CellError
from lattice_pulumi.cell.fleet import FleetService, build_fleet_view
from lattice_pulumi.cell.oidc import ChainAuthenticator, OIDCAuthenticator, OIDCConfig
from lattice_pulumi.cell.proxy_server import ProxyConfig, ProxyServer
from lattice_pulumi.cell.registry import ClusterRecord, ClusterRegistry
from lattice_pulumi.cell.requestinfo import RequestInfo, parse_request
from lattice_pulumi.cell.server import CellServer
from lattice_pulumi.cell.state import CellState
from lattice_pulumi.cell.tokenstore import TokenFile
from lattice_pulumi.cell.tunnel import ProxyTunnels

__all__ = [
    "AgentBundles",
    "AuditLog",
    "AuthenticationError",
    "Authenticator",
    "Caller",
    "CellConfig",
    "CellError",
    "CellServer",
    "CellState",
    "ChainAuthenticator",
    "ClusterRecord",
    "ClusterRegistry",
    "EnrolmentServer",
    "FleetService",
    "OIDCAuthenticator",
    "OIDCConfig",
    "ProxyConfig",
    "ProxyServer",
    "ProxyTunnels",
    "RequestInfo",
    "TokenFile",
    "TokenReviewAuthenticator",
    "TokenStore",
    "build_fleet_view",
    "parse_request",
]
