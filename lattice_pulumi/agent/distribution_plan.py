"""The pure planner of a distribution sync: desired set + what the cluster holds -> actions.

``plan_sync(desired, current)`` takes the objects of one kind the parent wants here (as the
cell sent them) and every object of that kind in the cluster, and decides per name
(namespace/name):

- not in the cluster: **create**;
- held by a distributed object (label ``DISTRIBUTED_BY_LABEL``): **unchanged** when it
  records the digest of what is wanted and still holds every wanted value (fields the API
  server defaulted may be extra), else **update** (a value edited by hand is put back);
- held by a local object (no label): **conflict**, the local object is kept as it is;
- a distributed object whose name is not wanted any more: **delete**.

Local objects are never updated nor deleted. No I/O; ``agent.distribution`` carries it out.
"""

from __future__ import annotations

import copy
import hashlib
import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from lattice_pulumi.protocol.distribution import DIGEST_ANNOTATION, DISTRIBUTED_BY_LABEL

__all__ = ["Conflict", "SyncPlan", "Update", "digest", "key_of", "plan_sync", "with_digest"]

Key = tuple[str, str]  # (namespace, name)


def key_of(obj: Mapping[str, Any]) -> Key:
    meta = obj.get("metadata", {})
    return str(meta.get("namespace") or ""), str(meta.get("name") or "")


def digest(obj: Mapping[str, Any]) -> str:
    """sha256 of the canonical JSON of ``obj`` without its own digest annotation."""
    body = copy.deepcopy(dict(obj))
    meta = body.get("metadata", {})
    meta.get("annotations", {}).pop(DIGEST_ANNOTATION, None)
    if meta.get("annotations") == {}:
        del meta["annotations"]
    text = json.dumps(body, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(text.encode()).hexdigest()


def with_digest(obj: Mapping[str, Any]) -> dict[str, Any]:
    """A copy of ``obj`` carrying its digest annotation (what the agent applies)."""
    body = copy.deepcopy(dict(obj))
    annotations = body.setdefault("metadata", {}).setdefault("annotations", {})
    annotations[DIGEST_ANNOTATION] = digest(obj)
    return body


def _is_distributed(obj: Mapping[str, Any]) -> bool:
    return DISTRIBUTED_BY_LABEL in (obj.get("metadata", {}).get("labels") or {})


def _contains(held: Any, wanted: Any) -> bool:
    """Whether ``held`` has every value of ``wanted`` (extra keys, e.g. defaults, allowed)."""
    if isinstance(wanted, Mapping):
        return isinstance(held, Mapping) and all(
            key in held and _contains(held[key], value) for key, value in wanted.items()
        )
    return bool(held == wanted)


def _in_place(held: Mapping[str, Any], body: Mapping[str, Any]) -> bool:
    """What was applied is still there: same digest, and no wanted value edited by hand."""
    if _recorded_digest(held) != body["metadata"]["annotations"][DIGEST_ANNOTATION]:
        return False
    wanted_meta = {k: body["metadata"].get(k, {}) for k in ("labels", "annotations")}
    return _contains(held.get("spec"), body.get("spec")) and _contains(
        held.get("metadata", {}), wanted_meta
    )


def _recorded_digest(obj: Mapping[str, Any]) -> str:
    return str((obj.get("metadata", {}).get("annotations") or {}).get(DIGEST_ANNOTATION, ""))


@dataclass(frozen=True)
class Update:
    """A distributed object to rewrite: what is wanted, and the object there now."""

    desired: dict[str, Any]
    current: dict[str, Any]


@dataclass(frozen=True)
class Conflict:
    """A wanted name held by a local object (kept)."""

    desired: dict[str, Any]
    current: dict[str, Any]

    @property
    def message(self) -> str:
        namespace, name = key_of(self.current)
        return (
            f"{self.current.get('kind', '?')} {namespace}/{name} exists in this cluster "
            "and was not made by distribution: kept, the parent's copy is not applied"
        )


@dataclass(frozen=True)
class SyncPlan:
    """What to do; every list is in (namespace, name) order."""

    create: list[dict[str, Any]] = field(default_factory=list)
    update: list[Update] = field(default_factory=list)
    unchanged: list[Key] = field(default_factory=list)
    delete: list[dict[str, Any]] = field(default_factory=list)
    conflicts: list[Conflict] = field(default_factory=list)


def plan_sync(
    desired: Iterable[Mapping[str, Any]], current: Iterable[Mapping[str, Any]]
) -> SyncPlan:
    """The plan that makes the distributed objects of one kind equal ``desired``.

    ``desired`` names each object once (a repeated name is a ``ValueError``: the whole set
    is refused rather than half applied).
    """
    wanted: dict[Key, dict[str, Any]] = {}
    for obj in desired:
        key = key_of(obj)
        if key in wanted:
            raise ValueError(f"the desired set names {key[0]}/{key[1]} twice")
        wanted[key] = with_digest(obj)
    there = {key_of(obj): dict(obj) for obj in current}
    plan = SyncPlan()
    for key in sorted(wanted):
        body, held = wanted[key], there.get(key)
        if held is None:
            plan.create.append(body)
        elif not _is_distributed(held):
            plan.conflicts.append(Conflict(body, held))
        elif _in_place(held, body):
            plan.unchanged.append(key)
        else:
            plan.update.append(Update(body, held))
    for key in sorted(there):
        if key not in wanted and _is_distributed(there[key]):
            plan.delete.append(there[key])
    return plan
