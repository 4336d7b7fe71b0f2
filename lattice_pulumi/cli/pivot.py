"""``lattice pivot``: move a cluster's Cluster API objects to another cluster or a directory.

Thin: parses options, calls :mod:`lattice_pulumi.pivot.session`, draws one progress bar per
group from the mover's events (:class:`GroupProgress`) and prints the plan (:func:`print_plan`).
"""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Annotated

import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TaskID, TextColumn

from lattice_pulumi.cli import output
from lattice_pulumi.errors import LatticeError, PivotError
from lattice_pulumi.pivot import EventKind, MoveOptions, MovePlan, MoveResult, PivotEvent, session

__all__ = ["GroupProgress", "pivot", "print_plan", "register"]


class GroupProgress:
    """Rich progress bars, one per create/delete/save group, fed by mover events."""

    def __init__(self) -> None:
        self.progress = Progress(
            TextColumn("{task.description}"),
            BarColumn(),
            MofNCompleteColumn(),
            console=output.err,
            transient=False,
        )
        self._tasks: dict[tuple[str, int], TaskID] = {}

    def __call__(self, event: PivotEvent) -> None:
        key = (event.phase, event.group)
        if event.kind is EventKind.GROUP_START:
            label = f"{event.phase} group {event.group + 1}"
            self._tasks[key] = self.progress.add_task(label, total=event.total)
        elif event.kind is EventKind.OBJECT_DONE and key in self._tasks:
            self.progress.advance(self._tasks[key])
        elif event.kind is EventKind.PHASE_DONE:
            self.progress.console.print(f"[green]✓[/green] {event.phase} ({event.total})")


def print_plan(plan: MovePlan) -> None:
    """The groups a move creates, owners first (what ``--dry-run`` shows)."""
    clusters = ", ".join(str(c) for c in plan.clusters)
    output.out.print(f"Plan for {output.escape(clusters)}: {plan.size} objects")
    for index, group in enumerate(plan.create_groups):
        output.out.print(f"group {index + 1}:")
        for item in group:
            keep = (
                "  (shared: copied when absent, kept in the source)"
                if item.shared
                else ("" if item.delete else "  (kept in the source)")
            )
            output.out.print(f"  {output.escape(str(item.ref))}{keep}")


def _summary(result: MoveResult, dry_run: bool) -> str:
    if result.resumed_only:
        return f"already moved: deleted {result.deleted} left in the source, resumed the target"
    if dry_run:
        return "dry run: nothing was written"
    return (
        f"created {result.created}, adopted {result.adopted} from an earlier run, "
        f"deleted {result.deleted}, saved {result.saved}, "
        f"{result.shared} shared objects already in the target left as they were"
    )


def _check_exists(**paths: Path | None) -> None:
    for option, path in paths.items():
        if path is not None and not path.exists():
            flag = "--" + option.replace("_", "-")
            raise PivotError(f"{flag} {path}: no such file or directory", phase="setup")


def _run(
    source: Path | None,
    target: Path | None,
    to_directory: Path | None,
    from_directory: Path | None,
    options: MoveOptions,
    observer: GroupProgress,
) -> MoveResult:
    restore = from_directory is not None and target is not None and source is None
    save = source is not None and to_directory is not None and target is None
    move = source is not None and target is not None and to_directory is from_directory is None
    if not (restore or save or move):
        raise PivotError(
            "give --from and --to, --from and --to-directory, or --from-directory and --to",
            phase="setup",
        )
    _check_exists(**{"from": source, "to": target, "from_directory": from_directory})
    if restore:
        assert from_directory is not None and target is not None
        return asyncio.run(
            session.restore_from_directory(from_directory, target, options, observer)
        )
    assert source is not None
    if save:
        assert to_directory is not None
        return asyncio.run(session.save_to_directory(source, to_directory, options, observer))
    assert target is not None
    return asyncio.run(session.move_clusters(source, target, options, observer))


def pivot(
    source: Annotated[
        Path | None, typer.Option("--from", help="Kubeconfig of the cluster the objects are in.")
    ] = None,
    target: Annotated[
        Path | None, typer.Option("--to", help="Kubeconfig of the cluster they move to.")
    ] = None,
    cluster: Annotated[
        str | None,
        typer.Option("--cluster", help="Name of the Cluster to move (all when omitted)."),
    ] = None,
    namespace: Annotated[
        str | None, typer.Option("--namespace", "-n", help="Only this namespace.")
    ] = None,
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Print the plan; write nothing.")
    ] = False,
    to_directory: Annotated[
        Path | None, typer.Option("--to-directory", help="Back the objects up here instead.")
    ] = None,
    from_directory: Annotated[
        Path | None, typer.Option("--from-directory", help="Restore a backup into --to.")
    ] = None,
) -> None:
    """Move Cluster API objects between clusters (crash-safe: rerun after any failure)."""
    options = MoveOptions(cluster=cluster, namespace=namespace, dry_run=dry_run)
    view = GroupProgress()
    try:
        with view.progress:
            result = _run(source, target, to_directory, from_directory, options, view)
    except LatticeError as error:
        output.fail(error)
    if result.plan is not None and dry_run:
        print_plan(result.plan)
    output.err.print(_summary(result, dry_run))


def register(app: typer.Typer) -> None:
    app.command("pivot")(pivot)
