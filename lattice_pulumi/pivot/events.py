"""What the mover reports while it works: one event per phase step, group and object.

The CLI draws progress bars from them; tests use them as crash points. The mover never
depends on who listens.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from enum import Enum

from lattice_pulumi.pivot.objects import ObjectRef

__all__ = ["EventKind", "Observer", "PivotEvent", "ignore"]


class EventKind(Enum):
    """Where in a phase an event comes from."""

    PHASE_DONE = "phase-done"  # a whole phase (discover, pause, resume, ...) finished
    GROUP_START = "group-start"  # a create/delete/save group begins; ``total`` objects
    OBJECT_DONE = "object-done"  # one object of the current group is written
    GROUP_DONE = "group-done"


@dataclass(frozen=True)
class PivotEvent:
    """One step: ``phase`` is discover, preflight, pause, create, delete, save, resume."""

    kind: EventKind
    phase: str
    group: int = -1
    total: int = 0
    ref: ObjectRef | None = None


Observer = Callable[[PivotEvent], None]


def ignore(event: PivotEvent) -> None:
    """The observer used when nobody listens."""
