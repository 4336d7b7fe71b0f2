"""Rewriting a document's other spellings into the canonical form, remembering where each
rewritten field came from.

A kind that accepts another layout of its fields (LatticeCluster accepts the original Lattice's
spellings, see ``spec.cluster_aliases``) rewrites the author's plain data into the canonical
document before pydantic sees it. ``Normalized`` holds that document, the author's path of
every field that moved (so an error names the field as the author wrote it) and the errors of
fields that have no meaning in the canonical form. The loader calls ``Resource.normalize``; the
rewriting never raises, whatever the input.
"""

from __future__ import annotations

import copy
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from lattice_pulumi.errors import FieldPath, SpecError

__all__ = ["Normalized", "Rewrite"]


@dataclass
class Normalized:
    """A canonical document, where its moved fields came from, and the fields rejected."""

    data: Any
    origins: dict[FieldPath, FieldPath] = field(default_factory=dict)
    """Canonical path of a moved field to the path the author wrote it at."""
    errors: list[SpecError] = field(default_factory=list)
    """Fields of the author's document with no canonical meaning (paths as written)."""

    def author_path(self, path: Sequence[str | int]) -> FieldPath:
        """Where the author wrote the field at canonical ``path`` (longest moved prefix)."""
        parts = tuple(path)
        for end in range(len(parts), 0, -1):
            origin = self.origins.get(parts[:end])
            if origin is not None:
                return (*origin, *parts[end:])
        return parts


class Rewrite:
    """Copy-on-write edits of a plain document that build a ``Normalized``."""

    def __init__(self, data: Any) -> None:
        self.data = copy.deepcopy(data)
        self.origins: dict[FieldPath, FieldPath] = {}
        self.errors: list[SpecError] = []

    def result(self) -> Normalized:
        return Normalized(self.data, self.origins, self.errors)

    def get(self, path: FieldPath) -> Any:
        """The value at ``path``, or ``None`` when a level is missing or not a mapping."""
        node = self.data
        for part in path:
            if not isinstance(node, dict) or part not in node:
                return None
            node = node[part]
        return node

    def mapping(self, path: FieldPath) -> dict[str, Any] | None:
        value = self.get(path)
        return value if isinstance(value, dict) else None

    def pop(self, path: FieldPath) -> Any:
        parent = self.mapping(path[:-1])
        if parent is None or not isinstance(path[-1], str):
            return None
        return parent.pop(path[-1], None)

    def put(self, path: FieldPath, value: Any, origin: FieldPath) -> bool:
        """Set ``path`` (creating missing mappings) and remember ``origin``; ``False`` when a
        level in the way is not a mapping (the author's shape error is reported elsewhere)."""
        node = self.data
        for part in path[:-1]:
            if not isinstance(node, dict):
                return False
            node = node.setdefault(part, {})
        if not isinstance(node, dict):
            return False
        node[path[-1]] = value
        self.origins[path] = origin
        return True

    def has(self, path: FieldPath) -> bool:
        """Whether the author's document holds ``path`` (whatever its value)."""
        parent = self.mapping(path[:-1])
        return parent is not None and path[-1] in parent

    def move(self, source: FieldPath, target: FieldPath) -> None:
        """The author's ``source`` field becomes ``target``; both set differently is an error."""
        if not self.has(source):
            return
        value = self.pop(source)
        if self.has(target) and self.get(target) != value:
            self.errors.append(
                SpecError(
                    f"{value!r} differs from {'.'.join(map(str, target))} "
                    f"({self.get(target)!r}); set it in one place",
                    source,
                )
            )
            return
        self.put(target, value, source)

    def default(self, source: FieldPath, groups: list[FieldPath], field: FieldPath) -> None:
        """The author's ``source`` value applies to every group that does not set ``field``."""
        if not self.has(source):
            return
        value = self.pop(source)
        for group in groups:
            target = (*group, *field)
            if not self.has(target):
                self.put(target, value, source)

    def reject_known(self, block: FieldPath, reasons: dict[str, str]) -> None:
        """Reject each field of ``block`` named in ``reasons`` with its reason."""
        for key, why in reasons.items():
            if self.has((*block, key)):
                self.reject((*block, key), f"{key} {why}" if why.startswith("is ") else why)

    def reject(self, path: FieldPath, message: str) -> None:
        """Drop the author's field at ``path`` with an error saying what to write instead."""
        self.pop(path)
        self.errors.append(SpecError(message, path))
