"""A rerun checks the last phase done before trusting it: gone means it runs again."""

from __future__ import annotations

from pathlib import Path

import pytest

from lattice_pulumi.errors import InstallError
from lattice_pulumi.install import INSTALL_PHASES, Progress, run_phases

NAMES = [p.name for p in INSTALL_PHASES]


def _progress(tmp_path: Path, done: list[str]) -> Progress:
    progress = Progress(tmp_path / "progress.json", "install", "digest", list(done))
    progress.save()
    return progress


def _run(progress: Progress, holds: bool) -> tuple[list[str], list[tuple[str, str]]]:
    events: list[tuple[str, str]] = []
    actions = {name: (lambda: None) for name in NAMES}
    ran = run_phases(INSTALL_PHASES, actions, progress,
                     lambda phase, state: events.append((phase.name, state)),
                     verify={"cluster-api": lambda: holds})  # fmt: skip
    return ran, events


def test_a_last_phase_that_still_holds_is_not_run_again(tmp_path: Path) -> None:
    ran, events = _run(_progress(tmp_path, NAMES[:2]), holds=True)
    assert ran == NAMES[2:]
    assert events[:3] == [("cluster-api", "verified"), ("bootstrap-plane", "skipped"),
                          ("cluster-api", "skipped")]  # fmt: skip


def test_a_last_phase_whose_result_is_gone_runs_again(tmp_path: Path) -> None:
    progress = _progress(tmp_path, NAMES[:2])
    ran, events = _run(progress, holds=False)
    assert ran == NAMES[1:]
    assert events[0] == ("cluster-api", "stale")
    assert progress.done == NAMES


def test_only_the_last_phase_done_is_checked(tmp_path: Path) -> None:
    ran, events = _run(_progress(tmp_path, NAMES[:3]), holds=False)  # last is apply-cluster
    assert ran == NAMES[3:] and ("cluster-api", "stale") not in events


def test_a_failing_check_is_an_install_error_of_its_phase(tmp_path: Path) -> None:
    progress = _progress(tmp_path, NAMES[:2])

    def broken() -> bool:
        raise RuntimeError("plane unreachable")

    with pytest.raises(InstallError, match=r"^install cluster-api: plane unreachable$"):
        run_phases(INSTALL_PHASES, {n: (lambda: None) for n in NAMES}, progress,
                   verify={"cluster-api": broken})  # fmt: skip
