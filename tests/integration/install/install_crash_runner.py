"""Run ``lattice install`` / ``uninstall`` (arguments as given) in this process and SIGKILL
it right after the phase ``LATTICE_KILL_AFTER`` names is saved as done.

The kill is a real ``SIGKILL`` of the process running the command, sent by itself at the
phase boundary (the progress file just written, the next phase not started), so nothing
of Python's cleanup runs. Usage: ``python install_crash_runner.py install -f ...``.
"""

from __future__ import annotations

import os
import signal
import sys

from lattice_pulumi.cli.main import app
from lattice_pulumi.install import Progress

KILL_AFTER = os.environ.get("LATTICE_KILL_AFTER", "")
_save = Progress.save


def _save_then_die(self: Progress) -> None:
    _save(self)
    if KILL_AFTER and self.running is None and self.done and self.done[-1] == KILL_AFTER:
        os.kill(os.getpid(), signal.SIGKILL)


if __name__ == "__main__":
    Progress.save = _save_then_die  # type: ignore[method-assign]
    sys.argv[0] = "lattice"
    app()
