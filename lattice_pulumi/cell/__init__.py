"""The parent side of the agent channel: gRPC server, registry of children, enrolment.

Nothing here imports ``pulumi``; the in-cluster operator runs it.
"""

from lattice_pulumi.cell.config import CellConfig
from lattice_pulumi.cell.enrolment import EnrolmentServer
from lattice_pulumi.cell.errors import CellError
from lattice_pulumi.cell.registry import ClusterRecord, ClusterRegistry
from lattice_pulumi.cell.server import CellServer

__all__ = [
    "CellConfig",
    "CellError",
    "CellServer",
    "ClusterRecord",
    "ClusterRegistry",
    "EnrolmentServer",
]
