"""Which CedarPolicies, CloudProviders and SecretProviders a cell hands to which child (pure).

The rule (README "Distribution"), checked by each cell for each direct child:

- every CloudProvider and SecretProvider is distributed; a CedarPolicy only with
  ``spec.propagate: true`` (the kind's own switch, default false: a policy grants access, so
  copying it into every cluster below is opted into, as in the original Lattice);
- the label ``lattice.dev/distribute: "false"`` keeps any of them home;
- the annotation ``lattice.dev/distribute-to`` holds a Kubernetes label selector
  (``environment=production,region in (us-east,eu-west),!canary``) that the child's labels,
  as its agent declared them in Hello, must match. A grandchild only sees what its parent
  received, so the selector is checked again, against the grandchild's labels, one hop down;
- an object that does not validate against its model is never distributed (its status in
  the parent already says why), nor one being deleted (waiting for a finalizer).

:func:`distributed_copy` builds what is sent: apiVersion, kind, name, namespace, the
author's labels and annotations, and the spec, validated by the kind's model. The models
forbid unknown fields and hold secrets only as references (SecretKeyRef, SecretRef), so no
credential travels; the Secrets they name are never sent either.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from pydantic import ValidationError

from lattice_pulumi.cell.errors import CellError
from lattice_pulumi.protocol.distribution import (
    API_VERSION,
    DIGEST_ANNOTATION,
    DISTRIBUTED_BY_LABEL,
    DISTRIBUTED_KINDS,
    OPT_OUT_LABEL,
    ORIGIN_ANNOTATION,
    SELECTOR_ANNOTATION,
    SOURCE_GENERATION_ANNOTATION,
    SOURCE_UID_ANNOTATION,
)
from lattice_pulumi.spec.kinds import KINDS

__all__ = [
    "LabelSelector",
    "NotDistributable",
    "Requirement",
    "distributed_copy",
    "parse_selector",
    "wanted_by",
]

# Annotations of the API machinery and controllers; not the author's, never copied.
_FOREIGN_PREFIXES = ("kubectl.kubernetes.io/", "kopf.zalando.org/", "operator.lattice.dev/")
_KEY = r"[A-Za-z0-9]([-A-Za-z0-9_./]*[A-Za-z0-9])?"
_VALUE = r"([A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?)?"
_EQUALITY = re.compile(rf"^(?P<key>{_KEY})\s*(?P<op>==|=|!=)\s*(?P<value>{_VALUE})$")
_SET = re.compile(rf"^(?P<key>{_KEY})\s+(?P<op>in|notin)\s*\((?P<values>[^()]*)\)$")
_EXISTS = re.compile(rf"^(?P<neg>!?)\s*(?P<key>{_KEY})$")
_VALUE_ONLY = re.compile(rf"^{_VALUE}$")


class NotDistributable(CellError):
    """An object of a distributed kind that cannot be sent (invalid, bad selector)."""


@dataclass(frozen=True)
class Requirement:
    """One term of a label selector: ``op`` is in, notin, exists or !exists."""

    key: str
    op: str
    values: frozenset[str] = frozenset()

    def matches(self, labels: Mapping[str, str]) -> bool:
        if self.op == "exists":
            return self.key in labels
        if self.op == "!exists":
            return self.key not in labels
        inside = self.key in labels and labels[self.key] in self.values
        return inside if self.op == "in" else not inside


@dataclass(frozen=True)
class LabelSelector:
    """Every requirement must hold (an empty selector matches everything)."""

    requirements: tuple[Requirement, ...]

    def matches(self, labels: Mapping[str, str]) -> bool:
        return all(r.matches(labels) for r in self.requirements)


def _split_terms(text: str) -> list[str]:
    terms, depth, start = [], 0, 0
    for index, char in enumerate(text):
        depth += {"(": 1, ")": -1}.get(char, 0)
        if char == "," and depth == 0:
            terms.append(text[start:index])
            start = index + 1
    terms.append(text[start:])
    return [t.strip() for t in terms]


def _requirement(term: str) -> Requirement:
    if match := _SET.match(term):
        values = [v.strip() for v in match["values"].split(",")]
        if not all(values) or not all(_VALUE_ONLY.match(v) for v in values):
            raise ValueError(f"{term!r}: expected label values inside the parentheses")
        return Requirement(match["key"], match["op"], frozenset(values))
    if match := _EQUALITY.match(term):
        op = "notin" if match["op"] == "!=" else "in"
        return Requirement(match["key"], op, frozenset({match["value"]}))
    if match := _EXISTS.match(term):
        return Requirement(match["key"], "!exists" if match["neg"] else "exists")
    raise ValueError(
        f"{term!r} is not a selector term: expected key, !key, key=value, key!=value, "
        "key in (a,b) or key notin (a,b)"
    )


def parse_selector(text: str) -> LabelSelector:
    """A Kubernetes label selector in its string form; ``ValueError`` names the bad term."""
    if not text.strip():
        return LabelSelector(())
    return LabelSelector(tuple(_requirement(term) for term in _split_terms(text)))


def _label(body: Mapping[str, Any]) -> str:
    meta = body.get("metadata", {})
    return f"{body.get('kind', '?')} {meta.get('namespace', '')}/{meta.get('name', '?')}"


def wanted_by(body: Mapping[str, Any], labels: Mapping[str, str]) -> bool:
    """Whether ``body`` (a distributable object) goes to a child with ``labels``.

    Raises :class:`NotDistributable` for a selector annotation that does not parse.
    """
    meta = body.get("metadata", {})
    if meta.get("deletionTimestamp"):  # going away here: gone below at once
        return False
    if (meta.get("labels") or {}).get(OPT_OUT_LABEL) == "false":
        return False
    if body.get("kind") == "CedarPolicy" and body.get("spec", {}).get("propagate") is not True:
        return False
    selector = (meta.get("annotations") or {}).get(SELECTOR_ANNOTATION)
    if selector is None:
        return True
    try:
        return parse_selector(str(selector)).matches(labels)
    except ValueError as exc:
        raise NotDistributable(f"{_label(body)}: annotation {SELECTOR_ANNOTATION}: {exc}") from None


def _markers(meta: Mapping[str, Any], origin: str) -> dict[str, str]:
    """The origin markers: kept from an object that was itself distributed, else this one."""
    annotations = meta.get("annotations") or {}
    if annotations.get(ORIGIN_ANNOTATION):
        return {
            k: str(annotations.get(k, ""))
            for k in (ORIGIN_ANNOTATION, SOURCE_UID_ANNOTATION, SOURCE_GENERATION_ANNOTATION)
        }
    return {
        ORIGIN_ANNOTATION: origin,
        SOURCE_UID_ANNOTATION: str(meta.get("uid", "")),
        SOURCE_GENERATION_ANNOTATION: str(meta.get("generation", "")),
    }


def distributed_copy(body: Mapping[str, Any], origin: str) -> dict[str, Any]:
    """What cell ``origin`` sends of ``body``; :class:`NotDistributable` if it cannot go."""
    kind = body.get("kind")
    if kind not in DISTRIBUTED_KINDS or body.get("apiVersion") != API_VERSION:
        raise NotDistributable(f"{_label(body)}: not a distributed kind")
    meta = body.get("metadata", {})
    labels = {k: v for k, v in (meta.get("labels") or {}).items() if k != DISTRIBUTED_BY_LABEL}
    annotations = {
        k: v
        for k, v in (meta.get("annotations") or {}).items()
        if not k.startswith(_FOREIGN_PREFIXES) and k != DIGEST_ANNOTATION
    }
    document: dict[str, Any] = {
        "apiVersion": API_VERSION,
        "kind": kind,
        "metadata": {"name": meta.get("name"), "namespace": meta.get("namespace")},
        "spec": body.get("spec"),
    }
    if labels:
        document["metadata"]["labels"] = labels
    if annotations:
        document["metadata"]["annotations"] = annotations
    try:
        KINDS[str(kind)].model_validate(document)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"])
        raise NotDistributable(f"{_label(body)}: invalid at {where}: {first['msg']}") from None
    document["metadata"].setdefault("labels", {})[DISTRIBUTED_BY_LABEL] = origin
    document["metadata"].setdefault("annotations", {}).update(_markers(meta, origin))
    return document
