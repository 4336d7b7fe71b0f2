"""What the install tests share with their fixtures, in a module of its own: a name
imported from ``conftest`` would resolve to whichever folder's conftest pytest loaded last."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from harness.capi_manager import CapiManager
from harness.control_plane import ControlPlane


@dataclass
class InstallPlanes:
    """The bootstrap plane (with the real CAPI manager), the new cluster, the components."""

    bootstrap: ControlPlane
    workload: ControlPlane
    manager: CapiManager
    components: Path
