"""The Cedar schema shipped with the package and the names it defines.

``lattice.cedarschema`` (next to this module) is the single definition of the model; this
module loads it once and spells its entity types and actions for the request builders.
"""

from __future__ import annotations

import functools
import json
from importlib import resources

import cedarpy

__all__ = [
    "ACTIONS",
    "ACTION_GROUPS",
    "CLUSTER_ACTION",
    "NAMESPACE",
    "VERBS",
    "action_uid",
    "entity_ref",
    "load_schema",
    "load_schema_text",
    "quote",
    "uid_text",
]

NAMESPACE = "Lattice"
CLUSTER_ACTION = "AccessCluster"
VERBS = (
    "get",
    "list",
    "watch",
    "create",
    "update",
    "patch",
    "delete",
    "deletecollection",
    "exec",
)
ACTIONS = (CLUSTER_ACTION, *VERBS, "AccessSecret", "OverrideSecurity", "AccessVolume")
# The action groups each action is a member of, as declared in the schema.
ACTION_GROUPS: dict[str, tuple[str, ...]] = dict.fromkeys(VERBS, (CLUSTER_ACTION,))


@functools.cache
def load_schema_text() -> str:
    """The Cedar schema text (``lattice.cedarschema``)."""
    return (resources.files(__package__) / "lattice.cedarschema").read_text(encoding="utf-8")


@functools.cache
def load_schema() -> cedarpy.Schema:
    """The parsed schema handle, parsed once per process (handles are immutable)."""
    return cedarpy.Schema.from_str(load_schema_text())


def quote(value: str) -> str:
    """A Cedar string literal (JSON escaping is a subset of Cedar's)."""
    return json.dumps(value, ensure_ascii=False)


def uid_text(entity_type: str, entity_id: str) -> str:
    """``Lattice::Type::"id"``: a qualified entity uid in Cedar syntax."""
    return f"{NAMESPACE}::{entity_type}::{quote(entity_id)}"


def action_uid(action: str) -> str:
    """``Lattice::Action::"name"``."""
    return uid_text("Action", action)


def entity_ref(entity_type: str, entity_id: str) -> dict[str, str]:
    """The Cedar JSON form of a uid: ``{"type": "Lattice::T", "id": "..."}``."""
    return {"type": f"{NAMESPACE}::{entity_type}", "id": entity_id}
