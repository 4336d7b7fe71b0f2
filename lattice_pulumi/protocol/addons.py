"""How add-on health travels in a heartbeat: one ``Condition`` per add-on, no new message.

The child's agent reports each add-on it finds (``agent.addon_health``) as a condition of
``ClusterHealth.conditions`` whose type is ``Addon.<name>``: status ``"True"`` when the
add-on is healthy, ``"False"`` when not, ``"Unknown"`` while it installs; reason and message
come from what the agent read. The parent's operator picks them out of the fleet view
(``operator.children.addons``). Old cells and CLIs show them as any other condition.
"""

from __future__ import annotations

__all__ = ["ADDON_CONDITION_PREFIX", "addon_condition_type", "addon_of_condition"]

ADDON_CONDITION_PREFIX = "Addon."


def addon_condition_type(name: str) -> str:
    """The condition type that carries add-on ``name``: ``Addon.cilium``."""
    return f"{ADDON_CONDITION_PREFIX}{name}"


def addon_of_condition(condition_type: str) -> str | None:
    """The add-on a condition type is about, or ``None`` for every other condition."""
    if not condition_type.startswith(ADDON_CONDITION_PREFIX):
        return None
    return condition_type.removeprefix(ADDON_CONDITION_PREFIX) or None
