"""Add-ons in ``lattice get cluster``: the ``Addon.<name>`` conditions agents report.

The child's agent reports each add-on as one heartbeat condition (``protocol.addons``);
``split_addons`` separates them from the other conditions so ``get cluster`` shows an
ADD-ON table (health ``Healthy``, ``Unhealthy`` or ``Unknown``) and ``-o json|yaml`` an
``addons`` list, and the conditions table keeps the cluster's own conditions.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from lattice_pulumi.protocol import pb
from lattice_pulumi.protocol.addons import addon_of_condition

__all__ = ["AddonRow", "addons_data", "split_addons"]

_HEALTH = {"True": "Healthy", "False": "Unhealthy"}


@dataclass(frozen=True)
class AddonRow:
    """One add-on as reported: name, health, reason and message."""

    name: str
    health: str
    reason: str
    message: str


def split_addons(
    conditions: Iterable[pb.Condition],
) -> tuple[list[AddonRow], list[pb.Condition]]:
    """The add-on rows (sorted by name) and the remaining conditions (in order)."""
    rows: list[AddonRow] = []
    rest: list[pb.Condition] = []
    for condition in conditions:
        name = addon_of_condition(condition.type)
        if name is None:
            rest.append(condition)
        else:
            health = _HEALTH.get(condition.status, "Unknown")
            rows.append(AddonRow(name, health, condition.reason, condition.message))
    return sorted(rows, key=lambda row: row.name), rest


def addons_data(conditions: Iterable[pb.Condition]) -> list[dict[str, Any]]:
    """The ``addons`` list of ``get cluster -o json``."""
    rows, _ = split_addons(conditions)
    return [
        {"name": r.name, "health": r.health, "reason": r.reason, "message": r.message} for r in rows
    ]
