"""Status of a LatticeService as the operator reports it: phase, conditions, generation.

Three conditions, always all present: ``Ready`` (every object applied), ``Compiling`` (a
newer generation or a missing dependency is being worked on) and ``Failed`` (the spec
cannot be compiled as it is; the message is the error text). ``lastTransitionTime`` is
kept while a condition's status stays the same. Pure: the caller passes the clock.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal

__all__ = ["Phase", "Report", "build_status", "same_status"]

Phase = Literal["Compiling", "Pending", "Ready", "Failed"]
_TRUTH: dict[Phase, tuple[str, str, str]] = {
    # phase: (Ready, Compiling, Failed)
    "Compiling": ("Unknown", "True", "False"),
    "Pending": ("False", "True", "False"),
    "Ready": ("True", "False", "False"),
    "Failed": ("False", "False", "True"),
}


@dataclass(frozen=True)
class Report:
    """What one reconcile found: phase, a CamelCase reason and a human message."""

    phase: Phase
    reason: str
    message: str
    generation: int
    dependencies: tuple[str, ...] = ()


def build_status(previous: Mapping[str, Any] | None, report: Report, now: str) -> dict[str, Any]:
    """The new ``status`` of the service (merged over the old one by the caller)."""
    old = {c.get("type"): c for c in (previous or {}).get("conditions") or []}
    conditions = []
    for kind, truth in zip(("Ready", "Compiling", "Failed"), _TRUTH[report.phase], strict=True):
        before = old.get(kind, {})
        since = before.get("lastTransitionTime") if before.get("status") == truth else None
        conditions.append(
            {
                "type": kind,
                "status": truth,
                "reason": report.reason,
                "message": report.message if truth != "False" or kind == "Ready" else "",
                "lastTransitionTime": since or now,
                "observedGeneration": report.generation,
            }
        )
    status: dict[str, Any] = {
        "phase": report.phase,
        "message": report.message,
        "conditions": conditions,
        "resolvedDependencies": list(report.dependencies),
    }
    if report.phase != "Compiling":
        status["observedGeneration"] = report.generation
    return status


def _without_times(status: Mapping[str, Any] | None) -> Any:
    if not status:
        return None
    conditions = [
        {k: v for k, v in c.items() if k != "lastTransitionTime"}
        for c in status.get("conditions") or []
    ]
    return {**status, "conditions": conditions}


def same_status(old: Mapping[str, Any] | None, new: Mapping[str, Any] | None) -> bool:
    """Whether two statuses say the same, transition times aside (no write needed)."""
    return bool(_without_times(old) == _without_times(new))
