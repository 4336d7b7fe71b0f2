"""Which objects a LatticeService owns: stamping generated objects and the inventory.

Every object the operator applies carries an ownerReference to its LatticeService
(controller, blocking owner deletion: the garbage collector removes it with the service),
the ``app.kubernetes.io/managed-by: lattice`` label and ``OWNER_LABEL`` with the owner's
uid. An object outside the owner's namespace cannot name a namespaced owner (the garbage
collector would treat the owner as missing and delete it), so it gets the labels only and
the operator deletes it itself.

``Inventory`` maps an owner's uid to the objects it owns, with their resourceVersion. It is
rebuilt from the cluster at start (``SERVICE_KINDS`` listed by label, each object's
ownerReference checked), so pruning after a restart only ever deletes objects that carry
both the label and the owner reference (or, across namespaces, the label). Objects
without them, such as a hand-made ConfigMap of a similar name, are never touched.
"""

from __future__ import annotations

import copy
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from lightkube import operators

from lattice_pulumi.compile import labels
from lattice_pulumi.compile.apiversions import API_VERSIONS
from lattice_pulumi.kube import KubeError
from lattice_pulumi.kube.objects import ResourceCatalog, iter_objects

__all__ = [
    "OWNER_LABEL",
    "SERVICE_KINDS",
    "Inventory",
    "ObjectRef",
    "load_inventory",
    "owner_reference",
    "ref_of",
    "stamp",
]

OWNER_LABEL = "lattice.dev/owner-uid"
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
        stamped.append(out)
    return stamped


class Inventory:
    """The objects each owner (by uid) owns, with the resourceVersion last seen."""

    def __init__(self) -> None:
        self._owned: dict[str, dict[ObjectRef, str]] = {}

    def owned(self, uid: str) -> dict[ObjectRef, str]:
        return dict(self._owned.get(uid, {}))

    def record(self, uid: str, ref: ObjectRef, version: str) -> bool:
        """Note an applied object; whether its resourceVersion changed (or it is new)."""
        versions = self._owned.setdefault(uid, {})
        changed = versions.get(ref) != version
        versions[ref] = version
        return changed

    def discard(self, uid: str, ref: ObjectRef) -> None:
        self._owned.get(uid, {}).pop(ref, None)

    def drop(self, uid: str) -> dict[ObjectRef, str]:
        return self._owned.pop(uid, {})

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
                    inventory.record(uid, ref_of(obj), obj["metadata"].get("resourceVersion", ""))
                    found += 1
        except KubeError as exc:
            if exc.status != 404:  # a kind whose CRD is not installed holds nothing of ours
                raise
    return found
