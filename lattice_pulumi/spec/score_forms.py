"""Score workload files as LatticeServices: metadata extras and the deprecated list forms.

Score (``score.dev/v1b1``) lets ``metadata`` carry any key (its schema has
``additionalProperties: true``): ``name``, ``annotations`` (and ``labels``, ``namespace``,
which Lattice reads too) pass through; every other key is kept apart as the service's
``score_metadata``. Score's earlier list forms of ``containers.*.files`` (items with
``target``) and ``containers.*.volumes`` (items with ``source`` and ``target``) load as the
map forms with a deprecation warning, as score-go's loader does. Used by ``spec.loader``.
"""

from __future__ import annotations

from typing import Any

from lattice_pulumi.errors import FieldPath
from lattice_pulumi.spec.base import API_VERSION

__all__ = ["deprecated_forms", "score_as_service"]

_META_KEYS = ("name", "namespace", "annotations", "labels")
_LIST_FORMS = {
    "files": "files as a list is deprecated in Score: write a map of target to file",
    "volumes": "volumes as a list is deprecated in Score: write a map of target to volume",
}


def score_as_service(data: dict[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
    """The LatticeService document of a Score file, and the metadata keys kept apart."""
    metadata = data.get("metadata")
    extras: dict[str, Any] = {}
    if isinstance(metadata, dict):
        extras = {k: v for k, v in metadata.items() if k not in _META_KEYS}
        metadata = {k: v for k, v in metadata.items() if k in _META_KEYS}
    spec = {k: v for k, v in data.items() if k not in ("apiVersion", "metadata")}
    containers = spec.get("containers")
    if isinstance(containers, dict):
        spec["containers"] = {
            name: _as_maps(container) if isinstance(container, dict) else container
            for name, container in containers.items()
        }
    service = {"apiVersion": API_VERSION, "kind": "LatticeService", "metadata": metadata}
    return {**service, "spec": spec}, extras


def deprecated_forms(data: dict[str, Any]) -> list[tuple[FieldPath, str]]:
    """``(path, message)`` of every deprecated list form in a Score file."""
    found: list[tuple[FieldPath, str]] = []
    containers = data.get("containers")
    if not isinstance(containers, dict):
        return found
    for name, container in containers.items():
        if not isinstance(container, dict):
            continue
        for field, message in _LIST_FORMS.items():
            if _convertible(container.get(field)):
                found.append((("containers", name, field), message))
    return found


def _convertible(items: Any) -> bool:
    """A list whose items all have a distinct string ``target`` (else validation reports)."""
    if not isinstance(items, list) or not items:
        return False
    targets = [i.get("target") if isinstance(i, dict) else None for i in items]
    return all(isinstance(t, str) for t in targets) and len(set(targets)) == len(targets)


def _as_maps(container: dict[str, Any]) -> dict[str, Any]:
    out = dict(container)
    for field in _LIST_FORMS:
        items = container.get(field)
        if isinstance(items, list) and _convertible(items):
            out[field] = {i["target"]: {k: v for k, v in i.items() if k != "target"} for i in items}
    return out
