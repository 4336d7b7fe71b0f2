"""Install progress: saved around every phase, a killed run continues, a changed spec is refused."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from lattice_pulumi.errors import InstallError
from lattice_pulumi.install import INSTALL_PHASES, Progress, run_phases
from tests.conftest import ROOT

NAMES = [p.name for p in INSTALL_PHASES]


def _runner(tmp_path: Path, block: str) -> subprocess.Popen[bytes]:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    args = [sys.executable, "-m", "tests.unit.install.phase_runner",
            str(tmp_path / "progress.json"), str(tmp_path / "markers"), block]  # fmt: skip
    return subprocess.Popen(args, cwd=ROOT, env=env)


def _wait_for_marker(path: Path, name: str, proc: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if path.exists() and name in path.read_text().split():
            return
        assert proc.poll() is None, "the runner ended before reaching the phase"
        time.sleep(0.05)
    raise AssertionError(f"phase {name} never started")


@pytest.mark.parametrize("killed_at", ["bootstrap-plane", "addons", "remove-bootstrap"])
def test_a_run_killed_in_a_phase_continues_with_that_phase(tmp_path: Path, killed_at: str) -> None:
    markers = tmp_path / "markers"
    first = _runner(tmp_path, block=killed_at)
    _wait_for_marker(markers, killed_at, first)
    first.send_signal(signal.SIGKILL)
    first.wait()
    saved = json.loads((tmp_path / "progress.json").read_text())
    before = NAMES[: NAMES.index(killed_at)]
    assert saved["done"] == before and saved["running"] == killed_at

    (tmp_path / "markers.release").touch()
    second = _runner(tmp_path, block="")
    assert second.wait(timeout=60) == 0
    saved = json.loads((tmp_path / "progress.json").read_text())
    assert saved["done"] == NAMES and saved["running"] is None
    # Every phase ran once, except the interrupted one: once killed, once again.
    assert markers.read_text().split() == [*before, killed_at, *NAMES[NAMES.index(killed_at) :]]


def test_a_failing_phase_is_named_and_left_to_run_again(tmp_path: Path) -> None:
    progress = Progress(tmp_path / "p.json", "install", "d")
    ran: list[str] = []

    def fail() -> None:
        raise RuntimeError("no machines after 30m")

    actions = {name: (lambda n=name: ran.append(n)) for name in NAMES} | {"wait-ready": fail}
    with pytest.raises(InstallError, match=r"^install wait-ready: no machines after 30m$"):
        run_phases(INSTALL_PHASES, actions, progress)
    assert ran == ["bootstrap-plane", "cluster-api", "apply-cluster"]
    reopened = Progress.open(tmp_path / "p.json", "install", "d")
    assert reopened.done == ran and reopened.running == "wait-ready"


def test_saved_progress_of_another_spec_is_refused_unless_restarted(tmp_path: Path) -> None:
    path = tmp_path / "p.json"
    Progress(path, "install", "old", ["bootstrap-plane"]).save()
    with pytest.raises(InstallError, match="another install or cluster spec"):
        Progress.open(path, "install", "new")
    assert Progress.open(path, "install", "new", restart=True).done == []


def test_an_unreadable_progress_file_is_a_clear_error(tmp_path: Path) -> None:
    path = tmp_path / "p.json"
    path.write_text("{half")
    with pytest.raises(InstallError, match=f"cannot read saved progress {path}"):
        Progress.open(path, "install", "d")


def test_every_phase_needs_an_action(tmp_path: Path) -> None:
    with pytest.raises(InstallError, match="no action for phases pivot"):
        run_phases(INSTALL_PHASES, {n: lambda: None for n in NAMES if n != "pivot"},
                   Progress(tmp_path / "p.json", "install", "d"))  # fmt: skip
