"""``lattice install`` / ``lattice uninstall``: the phase machine and its persisted progress.

- :mod:`~lattice_pulumi.install.phases`: the phases in order and the per-cluster plan (pure);
- :mod:`~lattice_pulumi.install.progress`: progress saved atomically around every phase, so
  a rerun after a kill continues with the interrupted phase.
"""

from __future__ import annotations

from lattice_pulumi.install.phases import (
    INSTALL_PHASES,
    UNINSTALL_PHASES,
    Phase,
    PlannedPhase,
    plan_install,
)
from lattice_pulumi.install.progress import Progress, run_phases, spec_digest

__all__ = [
    "INSTALL_PHASES",
    "UNINSTALL_PHASES",
    "Phase",
    "PlannedPhase",
    "Progress",
    "plan_install",
    "run_phases",
    "spec_digest",
]
