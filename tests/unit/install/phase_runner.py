"""Runs the install phases with actions that leave a marker file each; ``block`` waits.

Used by test_progress as a separate process that the test kills with SIGKILL in the
middle of a phase: ``python -m tests.unit.install.phase_runner PROGRESS MARKERS BLOCK``.
An action appends its phase name to MARKERS; the BLOCK phase then waits until the file
MARKERS.release exists (the kill lands while it waits).
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable
from pathlib import Path

from lattice_pulumi.install import INSTALL_PHASES, Progress, run_phases


def _action(name: str, markers: Path, block: str) -> Callable[[], None]:
    def act() -> None:
        with markers.open("a", encoding="utf-8") as handle:
            handle.write(name + "\n")
        release = markers.with_name(markers.name + ".release")
        while name == block and not release.exists():
            time.sleep(0.05)

    return act


def main(progress_file: str, markers_file: str, block: str) -> None:
    markers = Path(markers_file)
    actions = {p.name: _action(p.name, markers, block) for p in INSTALL_PHASES}
    progress = Progress.open(Path(progress_file), "install", "digest-1")
    run_phases(INSTALL_PHASES, actions, progress)


if __name__ == "__main__":
    main(*sys.argv[1:4])
