"""Which objects a LatticeService owns: stamping generated objects and the inventory.

Every object the operator applies carries an ownerReference to its LatticeService
(controller, blocking owner deletion: the garbage collector removes it with the service),
the ``app.kubernetes.io/managed-by: lattice`` label and ``OWNER_LABEL`` with the owner's
uid. An object outside the owner's namespace cannot name a namespaced owner (the garbage
collector would treat the owner as missing and delete it), so it gets the labels only and
the operator deletes it itself.

``stamp`` also writes ``HASH_ANNOTATION``: a digest of the desired object itself, so an
apply can be skipped when what is wanted has not changed since it was last applied.

``Inventory`` maps an owner's uid to the objects it owns, with the resourceVersion and
the digest last applied. It is rebuilt from the cluster at start (``SERVICE_KINDS``
listed by label, each object's ownerReference checked), so pruning after a restart only
ever deletes objects that carry both the label and the owner reference (or, across
namespaces, the label). The live bodies read then are kept until the owner's first
reconcile verifies them (``verified``): the digest must match and every field wanted
must hold the wanted value on the server, else the object is applied again. Objects
without our marks, such as a hand-made ConfigMap of a similar name, are never touched;
``foreign_owner`` says whether one of the generated name may be taken over.
"""

from __future__ import annotations

import copy
import hashlib
import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from lightkube import operators

from lattice_pulumi.compile import labels
from lattice_pulumi.compile.apiversions import API_VERSIONS
from lattice_pulumi.kube import KubeError
from lattice_pulumi.kube.objects import ResourceCatalog, iter_objects

__all__ = [
    "HASH_ANNOTATION",
    "OWNER_LABEL",
    "SERVICE_KINDS",
    "Inventory",
    "ObjectRef",
    "contains",
    "digest",
    "foreign_owner",
    "load_inventory",
    "owner_reference",
    "ref_of",
    "stamp",
]

OWNER_LABEL = "lattice.dev/owner-uid"
HASH_ANNOTATION = "lattice.dev/applied-hash"
# Every kind compile_service can emit in a cluster (listed at start to rebuild the
# inventory). Secrets are only emitted for Pulumi Outputs (an opaque marker), which the
# operator never has, so it neither writes nor lists Secrets.
SERVICE_KINDS = (
    "ServiceAccount",
    "ConfigMap",
    "PersistentVolumeClaim",
    "Deployment",
    "Service",
    "PodDisruptionBudget",
    "ExternalSecret",
    "ScaledObject",
    "Gateway",
    "HTTPRoute",
    "GRPCRoute",
    "TCPRoute",
    "ReferenceGrant",
    "Certificate",
    "Canary",
    "MetricTemplate",
    "CiliumNetworkPolicy",
    "AuthorizationPolicy",
    "PeerAuthentication",
    "ServiceEntry",
)


@dataclass(frozen=True, order=True)
class ObjectRef:
    """Identity of one object: apiVersion, kind, namespace ("" if cluster-wide), name."""

    api_version: str
    kind: str
    namespace: str
    name: str

    def as_object(self) -> dict[str, Any]:
        meta = {"name": self.name, **({"namespace": self.namespace} if self.namespace else {})}
        return {"apiVersion": self.api_version, "kind": self.kind, "metadata": meta}

    def __str__(self) -> str:
        where = f"{self.namespace}/" if self.namespace else ""
        return f"{self.kind} {where}{self.name}"


def ref_of(obj: Mapping[str, Any]) -> ObjectRef:
    meta = obj["metadata"]
    return ObjectRef(obj["apiVersion"], obj["kind"], meta.get("namespace") or "", meta["name"])


def owner_reference(owner: Mapping[str, Any]) -> dict[str, Any]:
    meta = owner["metadata"]
    return {
        "apiVersion": owner["apiVersion"],
        "kind": owner["kind"],
        "name": meta["name"],
        "uid": meta["uid"],
        "controller": True,
        "blockOwnerDeletion": True,
    }


def stamp(objects: Iterable[Mapping[str, Any]], owner: Mapping[str, Any]) -> list[dict[str, Any]]:
    """Copies of ``objects`` with the owner's labels and (same namespace) ownerReference."""
    owner_ns = owner["metadata"].get("namespace") or ""
    reference = owner_reference(owner)
    stamped = []
    for obj in objects:
        out = copy.deepcopy(dict(obj))
        meta = out["metadata"]
        meta["labels"] = {
            **meta.get("labels", {}),
            labels.MANAGED_BY: "lattice",
            OWNER_LABEL: owner["metadata"]["uid"],
        }
        if meta.get("namespace") and meta["namespace"] == owner_ns:
            meta["ownerReferences"] = [reference]
        meta["annotations"] = {**meta.get("annotations", {}), HASH_ANNOTATION: digest(out)}
        stamped.append(out)
    return stamped


def digest(obj: Mapping[str, Any]) -> str:
    """A digest of ``obj`` as it would be applied (its own digest annotation left out)."""
    meta = dict(obj.get("metadata", {}))
    annotations = {k: v for k, v in meta.get("annotations", {}).items() if k != HASH_ANNOTATION}
    meta["annotations"] = annotations
    text = json.dumps({**obj, "metadata": meta}, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(text.encode()).hexdigest()[:32]


def contains(live: Any, wanted: Any) -> bool:
    """Whether every field of ``wanted`` holds the same value in ``live`` (lists item by item).

    The server adds defaults and bookkeeping, never removes what was applied; a field it
    normalises (a quantity written another way) reads as a difference, which only costs
    one apply more.
    """
    if isinstance(wanted, Mapping):
        return isinstance(live, Mapping) and all(
            k in live and contains(live[k], v) for k, v in wanted.items()
        )
    if isinstance(wanted, list):
        return (
            isinstance(live, list)
            and len(live) == len(wanted)
            and all(contains(a, b) for a, b in zip(live, wanted, strict=True))
        )
    return bool(live == wanted)


def foreign_owner(live: Mapping[str, Any], uid: str, live_owners: set[str]) -> str | None:
    """Who else holds ``live`` (an object of a name we generate), None if ours to apply.

    Ours: it names our owner (label or ownerReference), or it carries the managed-by
    marker of an owner that no longer exists (left by Pulumi or a deleted service).
    Anything else (no marker, or the marker of another live service) is not ours.
    """
    meta = live.get("metadata", {})
    labels_ = meta.get("labels") or {}
    references = meta.get("ownerReferences") or []
    if labels_.get(OWNER_LABEL) == uid or any(r.get("uid") == uid for r in references):
        return None
    if labels_.get(labels.MANAGED_BY) != "lattice":
        return "is not managed by lattice"
    others = {labels_.get(OWNER_LABEL)} | {r.get("uid") for r in references}
    held = sorted(str(o) for o in others & live_owners)
    return f"belongs to another service (owner uid {held[0]})" if held else None


class Inventory:
    """The objects each owner (by uid) owns: resourceVersion and digest last applied."""

    def __init__(self) -> None:
        self._owned: dict[str, dict[ObjectRef, str]] = {}
        self._digests: dict[tuple[str, ObjectRef], str] = {}
        self._unverified: dict[tuple[str, ObjectRef], dict[str, Any]] = {}

    def owned(self, uid: str) -> dict[ObjectRef, str]:
        return dict(self._owned.get(uid, {}))

    def record(self, uid: str, ref: ObjectRef, version: str, digest_: str = "") -> bool:
        """Note an applied object; whether its resourceVersion changed (or it is new)."""
        versions = self._owned.setdefault(uid, {})
        changed = versions.get(ref) != version
        versions[ref] = version
        self._digests[(uid, ref)] = digest_
        self._unverified.pop((uid, ref), None)
        return changed

    def record_live(self, uid: str, obj: Mapping[str, Any]) -> None:
        """Note an object read from the server, to be verified before it is trusted."""
        ref = ref_of(obj)
        meta = obj.get("metadata", {})
        self.record(uid, ref, meta.get("resourceVersion", ""))
        self._digests[(uid, ref)] = (meta.get("annotations") or {}).get(HASH_ANNOTATION, "")
        self._unverified[(uid, ref)] = dict(obj)

    def up_to_date(self, uid: str, wanted: Mapping[str, Any]) -> bool:
        """Whether ``wanted`` (stamped) is what was last applied and, if read at start,
        what the server still holds; a verified object is trusted from then on."""
        ref = ref_of(wanted)
        key = (uid, ref)
        if ref not in self._owned.get(uid, {}):
            return False
        if self._digests.get(key) != wanted["metadata"]["annotations"][HASH_ANNOTATION]:
            return False
        live = self._unverified.pop(key, None)
        if live is not None and not contains(live, wanted):
            self._digests[key] = ""
            return False
        return True

    def discard(self, uid: str, ref: ObjectRef) -> None:
        self._owned.get(uid, {}).pop(ref, None)
        self._digests.pop((uid, ref), None)
        self._unverified.pop((uid, ref), None)

    def drop(self, uid: str) -> dict[ObjectRef, str]:
        owned = self._owned.pop(uid, {})
        for ref in owned:
            self._digests.pop((uid, ref), None)
            self._unverified.pop((uid, ref), None)
        return owned

    def owners(self) -> set[str]:
        """The uids that own anything."""
        return {uid for uid, owned in self._owned.items() if owned}

    def count(self) -> int:
        return sum(len(v) for v in self._owned.values())


def _owned_by(obj: Mapping[str, Any], uid: str) -> bool:
    meta = obj.get("metadata", {})
    references = meta.get("ownerReferences") or []
    if any(r.get("uid") == uid for r in references):
        return True
    return not references and meta.get("labels", {}).get(labels.MANAGED_BY) == "lattice"


async def load_inventory(catalog: ResourceCatalog, inventory: Inventory) -> int:
    """Fill ``inventory`` from the cluster; the number of objects found."""
    selector = {labels.MANAGED_BY: "lattice", OWNER_LABEL: operators.exists()}
    found = 0
    for kind in SERVICE_KINDS:
        try:
            async for obj in iter_objects(catalog, API_VERSIONS[kind], kind, selector):
                uid = obj["metadata"]["labels"][OWNER_LABEL]
                if _owned_by(obj, uid):
                    obj["metadata"].pop("managedFields", None)
                    inventory.record_live(uid, obj)
                    found += 1
        except KubeError as exc:
            if exc.status != 404:  # a kind whose CRD is not installed holds nothing of ours
                raise
    return found
