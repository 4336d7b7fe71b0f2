"""What ``lattice install`` / ``uninstall`` print while they run, and the wiring of the
phase machine to the Automation API stacks.

``ConsoleReporter`` prints one line per phase event (started, done, skipped, verified,
stale) and a rich progress bar per long wait (machines ready, objects gone); with no
terminal (CI, a log file) rich prints the bars' final state only.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from rich.progress import BarColumn, MofNCompleteColumn, Progress, TaskID, TextColumn

from lattice_pulumi.cli import output
from lattice_pulumi.install import Phase, run_phases
from lattice_pulumi.install import Progress as SavedProgress
from lattice_pulumi.install.bootstrap import BootstrapPlane, ExistingPlane, KindPlane
from lattice_pulumi.install.components import generate_components, load_components
from lattice_pulumi.install.context import InstallContext
from lattice_pulumi.spec.cluster import LatticeCluster

__all__ = ["ConsoleReporter", "make_context", "provider_components", "run"]

_WORDS = {
    "started": "...",
    "done": "done",
    "skipped": "done earlier",
    "verified": "done earlier, checked",
    "stale": "done earlier, gone: runs again",
}


class ConsoleReporter:
    """Phase lines and count bars on the console."""

    def __init__(self, phases: Sequence[Phase]) -> None:
        self.numbers = {p.name: i for i, p in enumerate(phases, start=1)}
        self.total = len(phases)
        self.bars: Progress | None = None
        self.tasks: dict[str, TaskID] = {}

    def phase(self, phase: Phase, state: str) -> None:
        self._close()
        number = self.numbers[phase.name]
        output.out.print(f"[{number}/{self.total}] {phase.name}: {phase.title} {_WORDS[state]}")

    def count(self, what: str, done: int, total: int) -> None:
        if self.bars is None:
            self.bars = Progress(
                TextColumn("  {task.description}"),
                BarColumn(),
                MofNCompleteColumn(),
                console=output.out,
                transient=False,
            )
            self.bars.start()
        if what not in self.tasks:
            self.tasks[what] = self.bars.add_task(what, total=max(total, 1))
        gone = what.endswith("gone")
        shown = (total - done) if gone else done
        self.bars.update(
            self.tasks[what],
            completed=0 if gone and total else shown,
            total=max(total, 1) if not gone else None,
        )
        if gone:
            self.bars.update(self.tasks[what], description=f"{what}: {total} left")

    def _close(self) -> None:
        if self.bars is not None:
            self.bars.stop()
            self.bars, self.tasks = None, {}


def provider_components(
    cluster: LatticeCluster, folder: Path | None
) -> tuple[Mapping[str, Any], ...]:
    """The providers' manifests from ``folder``, or from ``clusterctl generate provider``."""
    return tuple(load_components(folder) if folder is not None else generate_components(cluster))


def make_context(
    *,
    cluster: LatticeCluster,
    namespace: str,
    folder: Path,
    bootstrap_kubeconfig: Path | None,
    components: tuple[Mapping[str, Any], ...],
    reporter: ConsoleReporter,
    timeout: float,
    skip_await: bool = False,
) -> InstallContext:
    """The phase machine's context: plane, components, stacks, console."""
    # imported here: the CLI starts without pulumi (a unit test holds it to that)
    from lattice_pulumi.automation.install_stacks import PulumiStacks

    plane: BootstrapPlane = (
        ExistingPlane(bootstrap_kubeconfig.resolve())
        if bootstrap_kubeconfig is not None
        else KindPlane(cluster.name, folder)
    )
    return InstallContext(
        cluster=cluster.name,
        namespace=namespace,
        folder=folder,
        plane=plane,
        components=components,
        stacks=PulumiStacks(folder),
        reporter=reporter,
        timeout=timeout,
        skip_await=skip_await,
    )


def run(
    phases: Sequence[Phase], actions: Any, progress: SavedProgress, reporter: ConsoleReporter
) -> list[str]:
    """Run the phases with the console's phase lines; the bars closed at the end."""
    steps, verify = actions
    try:
        return run_phases(phases, steps, progress, reporter.phase, verify)
    finally:
        reporter._close()
