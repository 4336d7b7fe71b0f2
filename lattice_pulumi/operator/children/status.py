"""Status of a parent-provisioned LatticeCluster: phase, reason, conditions, add-ons. Pure.

Phases in order: ``Pending`` (not applied yet, or waiting for something outside, such as
its CloudProvider), ``Provisioning`` (Cluster API objects applied; waiting for the
control plane), ``Enrolling`` (the control plane is up; waiting for the child's agent to
enrol and connect), ``Pivoting`` (moving the Cluster API objects into the child),
``Ready`` (the child manages itself). ``Failed`` carries the reason (``InvalidSpec``,
``CompileError``, ``NotAParent``) and the message.

Conditions, always all present: ``Provisioned``, ``Enrolled``, ``Pivoted`` (true once
that step is behind), ``Ready`` and ``Failed``. ``lastTransitionTime`` is kept while a
condition's status stays the same.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

__all__ = ["ORDER", "ChildPhase", "PhaseReport", "build_child_status", "phase_of"]

ChildPhase = Literal["Pending", "Provisioning", "Enrolling", "Pivoting", "Ready", "Failed"]
ORDER: tuple[ChildPhase, ...] = ("Pending", "Provisioning", "Enrolling", "Pivoting", "Ready")
# condition: the first phase at which it is True
_STEPS: tuple[tuple[str, ChildPhase], ...] = (
    ("Provisioned", "Enrolling"),
    ("Enrolled", "Pivoting"),
    ("Pivoted", "Ready"),
)


@dataclass(frozen=True)
class PhaseReport:
    """What one pass over a child found."""

    phase: ChildPhase
    reason: str
    message: str
    generation: int
    addons: list[dict[str, Any]] | None = field(default=None)
    """``status.addons``; ``None`` keeps what the status holds."""
    endpoint: str | None = None


def phase_of(status: Mapping[str, Any] | None) -> str:
    return str((status or {}).get("phase") or "")


def _truth(kind: str, since: ChildPhase, phase: ChildPhase) -> str:
    if phase == "Failed":
        return "False" if kind != "Failed" else "True"
    return "True" if ORDER.index(phase) >= ORDER.index(since) else "False"


def build_child_status(
    previous: Mapping[str, Any] | None, report: PhaseReport, now: str
) -> dict[str, Any]:
    """The new ``status`` of the LatticeCluster (merged over the old one by the caller)."""
    old = {c.get("type"): c for c in (previous or {}).get("conditions") or []}
    wanted = [(kind, _truth(kind, since, report.phase)) for kind, since in _STEPS]
    wanted.append(("Ready", "True" if report.phase == "Ready" else "False"))
    wanted.append(("Failed", "True" if report.phase == "Failed" else "False"))
    conditions = []
    for kind, truth in wanted:
        before = old.get(kind, {})
        since = before.get("lastTransitionTime") if before.get("status") == truth else None
        conditions.append(
            {
                "type": kind,
                "status": truth,
                "reason": report.reason,
                "message": report.message if truth == "True" or kind == "Ready" else "",
                "lastTransitionTime": since or now,
                "observedGeneration": report.generation,
            }
        )
    status: dict[str, Any] = {
        "phase": report.phase,
        "message": report.message,
        "observedGeneration": report.generation,
        "conditions": conditions,
    }
    if report.addons is not None:
        status["addons"] = report.addons
    if report.endpoint is not None:
        status["endpoint"] = report.endpoint
    return status
