"""Engine events as a live resource table with a progress bar.

``apply_event`` is a pure function from the current ``Progress`` and one engine event to
the next ``Progress``; ``render`` draws a ``Progress`` with rich. ``LiveProgress`` only
glues them to ``rich.live.Live`` (the Automation API calls ``on_event`` from its event
reader thread, hence the lock). Rows appear in the order the engine first mentions a
resource; the root stack resource is left out.
"""

from __future__ import annotations

import dataclasses
import threading
from collections.abc import Mapping
from dataclasses import dataclass, field
from types import TracebackType
from typing import Any

from pulumi.automation import events
from rich.console import Console, Group, RenderableType
from rich.live import Live
from rich.progress_bar import ProgressBar
from rich.table import Table
from rich.text import Text

__all__ = ["LiveProgress", "Progress", "Row", "apply_event", "render"]

_STACK_TYPE = "pulumi:pulumi:Stack"
_STYLES = {"running": "yellow", "done": "green", "failed": "red", "planned": "cyan"}


@dataclass(frozen=True)
class Row:
    """One resource: what the engine does to it and how far it got."""

    urn: str
    type: str
    name: str
    op: str
    status: str  # planned, running, done, failed
    message: str = ""


@dataclass(frozen=True)
class Progress:
    """Every resource seen so far, diagnostics, and the summary once the engine is done."""

    rows: tuple[Row, ...] = ()
    diagnostics: tuple[str, ...] = ()
    summary: Mapping[str, int] = field(default_factory=dict)
    finished: bool = False

    @property
    def completed(self) -> int:
        return sum(1 for r in self.rows if r.status in ("done", "failed", "planned"))

    @property
    def failed(self) -> int:
        return sum(1 for r in self.rows if r.status == "failed")


def _name_of(urn: str) -> str:
    return urn.rsplit("::", 1)[-1]


def _upsert(progress: Progress, urn: str, **changes: Any) -> Progress:
    rows = list(progress.rows)
    for index, row in enumerate(rows):
        if row.urn == urn:
            rows[index] = dataclasses.replace(row, **changes)
            return dataclasses.replace(progress, rows=tuple(rows))
    base = {"type": "", "name": _name_of(urn), "op": "", "status": "running"} | changes
    return dataclasses.replace(progress, rows=(*rows, Row(urn=urn, **base)))


def _step(progress: Progress, meta: events.StepEventMetadata, status: str) -> Progress:
    if meta.type == _STACK_TYPE:
        return progress
    op = meta.op.value if isinstance(meta.op, events.OpType) else str(meta.op)
    if op == events.OpType.SAME.value and status == "running":
        status = "done"
    return _upsert(progress, meta.urn, type=meta.type, op=op, status=status)


def apply_event(progress: Progress, event: events.EngineEvent) -> Progress:
    """The progress after ``event`` (pure: ``progress`` is not changed)."""
    if event.resource_pre_event is not None:
        pre = event.resource_pre_event
        return _step(progress, pre.metadata, "planned" if pre.planning else "running")
    if event.res_outputs_event is not None:
        return _step(progress, event.res_outputs_event.metadata, "done")
    if event.res_op_failed_event is not None:
        return _step(progress, event.res_op_failed_event.metadata, "failed")
    if event.diagnostic_event is not None:
        diag = event.diagnostic_event
        if diag.severity not in ("error", "warning") or diag.ephemeral:
            return progress
        message = diag.message.strip()
        progress = dataclasses.replace(
            progress, diagnostics=(*progress.diagnostics, f"{diag.severity}: {message}")
        )
        if diag.urn and diag.severity == "error" and not diag.urn.endswith(_STACK_TYPE):
            first = message.splitlines()[0] if message else ""
            progress = _upsert(progress, diag.urn, message=first, status="failed")
        return progress
    if event.summary_event is not None:
        changes = {
            (k.value if isinstance(k, events.OpType) else str(k)): v
            for k, v in event.summary_event.resource_changes.items()
        }
        return dataclasses.replace(progress, summary=changes, finished=True)
    return progress


def render(progress: Progress, title: str) -> RenderableType:
    """The resource table, then a bar of resources finished out of those seen."""
    table = Table(title=title, expand=False, show_edge=False)
    table.add_column("operation")
    table.add_column("type")
    table.add_column("name")
    table.add_column("status")
    for row in progress.rows:
        style = _STYLES.get(row.status, "")
        status = Text(row.status + (f": {row.message}" if row.message else ""), style=style)
        table.add_row(row.op, row.type, row.name, status)
    total = max(len(progress.rows), 1)
    bar = ProgressBar(total=total, completed=progress.completed if progress.rows else 0)
    counts = Text(f"{progress.completed}/{len(progress.rows)} resources")
    if progress.summary:
        counts.append("  " + ", ".join(f"{k} {v}" for k, v in sorted(progress.summary.items())))
    return Group(table, bar, counts)


class LiveProgress:
    """A context manager showing the progress of one engine operation as it happens."""

    def __init__(self, title: str, console: Console | None = None) -> None:
        self.title = title
        self.progress = Progress()
        self._lock = threading.Lock()
        self._live = Live(render(self.progress, title), console=console, transient=False)

    def on_event(self, event: events.EngineEvent) -> None:
        with self._lock:
            self.progress = apply_event(self.progress, event)
            self._live.update(render(self.progress, self.title))

    def __enter__(self) -> LiveProgress:
        self._live.__enter__()
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        trace: TracebackType | None,
    ) -> None:
        self._live.__exit__(kind, error, trace)
