"""The parent side of the agent channel: gRPC server, registry of children, enrolment.

Nothing here imports ``pulumi``; the in-cluster operator runs it.
"""

from lattice_pulumi.cell.bundles import AgentBundles
from lattice_pulumi.cell.config import CellConfig
from lattice_pulumi.cell.enrolment import EnrolmentServer, TokenStore
from lattice_pulumi.cell.errors import CellError
from lattice_pulumi.cell.fleet import FleetService, build_fleet_view
from lattice_pulumi.cell.registry import ClusterRecord, ClusterRegistry
from lattice_pulumi.cell.server import CellServer
from lattice_pulumi.cell.state import CellState
from lattice_pulumi.cell.tokenstore import TokenFile

__all__ = [
    "AgentBundles",
    "CellConfig",
    "CellError",
    "CellServer",
    "CellState",
    "ClusterRecord",
    "ClusterRegistry",
    "EnrolmentServer",
    "FleetService",
    "TokenFile",
    "TokenStore",
    "build_fleet_view",
]
