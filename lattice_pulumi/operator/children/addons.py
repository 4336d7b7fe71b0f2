"""Each add-on of a cluster's plan with its health, from what the child's agent reported.

Pure. ``addon_statuses(plan, conditions)`` returns one entry per add-on of
``compile.cluster.plan_addons`` (plan order), the shape of ``status.addons`` in
``spec.cluster.AddonStatus``: ``Healthy`` for a reported condition ``"True"``,
``Unhealthy`` for ``"False"``, ``Unknown`` otherwise (installing, or not reported: the
agent reports the add-ons it finds in its cluster, see ``protocol.addons``). The message
is the agent's, or says why the health is unknown.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from lattice_pulumi.compile.cluster.addons import Addon
from lattice_pulumi.operator.children.link import ReportedCondition
from lattice_pulumi.protocol.addons import addon_of_condition

__all__ = ["NOT_REPORTED", "addon_statuses", "summary"]

NOT_REPORTED = "not reported by the cluster's agent yet"
_HEALTH = {"True": "Healthy", "False": "Unhealthy"}


def addon_statuses(
    plan: Iterable[Addon], conditions: Iterable[ReportedCondition] | None
) -> list[dict[str, Any]]:
    """``status.addons`` for ``plan`` given the child's last conditions (``None``: none yet)."""
    reported: dict[str, ReportedCondition] = {}
    for condition in conditions or ():
        name = addon_of_condition(condition.type)
        if name is not None:
            reported[name] = condition
    result = []
    for addon in plan:
        found = reported.get(addon.name)
        health = _HEALTH.get(found.status, "Unknown") if found is not None else "Unknown"
        if found is None:
            message = NOT_REPORTED
        else:
            message = found.message or found.reason or f"condition {found.status}"
        result.append(
            {"name": addon.name, "version": addon.version, "health": health, "message": message}
        )
    return result


def summary(statuses: Iterable[dict[str, Any]]) -> str:
    """``3/5 add-ons healthy`` (for the status message)."""
    items = list(statuses)
    healthy = sum(1 for s in items if s["health"] == "Healthy")
    return f"{healthy}/{len(items)} add-ons healthy"
