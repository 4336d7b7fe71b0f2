"""Object identity and the metadata rules of a move: what is kept, stripped and added.

:class:`ObjectRef` names one Kubernetes object (``Kind namespace/name``) in errors, logs and
plans. :func:`copy_for_target` turns an object read from the source into what is created in
the target: server-set metadata removed, ownerReferences rebuilt with the owners' new UIDs,
the source UID recorded in :data:`SOURCE_UID_ANNOTATION` so a rerun recognises it.
Used by the graph builder, the planner, the mover and the directory backup.
"""

from __future__ import annotations

import copy
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

__all__ = [
    "BLOCK_MOVE_ANNOTATION",
    "CAPI_GROUP",
    "CLUSTER_NAME_LABEL",
    "DELETE_FOR_MOVE_ANNOTATION",
    "MOVE_HIERARCHY_LABEL",
    "MOVE_LABEL",
    "PAUSED_ANNOTATION",
    "SOURCE_UID_ANNOTATION",
    "Object",
    "ObjectRef",
    "OwnerLink",
    "copy_for_target",
    "ref_of",
]

Object = dict[str, Any]

CAPI_GROUP = "cluster.x-k8s.io"
CLUSTER_NAME_LABEL = "cluster.x-k8s.io/cluster-name"
PAUSED_ANNOTATION = "cluster.x-k8s.io/paused"
DELETE_FOR_MOVE_ANNOTATION = "clusterctl.cluster.x-k8s.io/delete-for-move"
BLOCK_MOVE_ANNOTATION = "clusterctl.cluster.x-k8s.io/block-move"
# On an object: move it (and, for -hierarchy, what it owns) whichever Cluster is moved.
MOVE_LABEL = "clusterctl.cluster.x-k8s.io/move"
MOVE_HIERARCHY_LABEL = "clusterctl.cluster.x-k8s.io/move-hierarchy"
# Written on every object the mover creates: the UID the object had where it came from.
SOURCE_UID_ANNOTATION = "pivot.lattice.dev/source-uid"

# Metadata the API server sets; a new object must not carry it.
_SERVER_METADATA = (
    "uid",
    "resourceVersion",
    "creationTimestamp",
    "deletionTimestamp",
    "deletionGracePeriodSeconds",
    "generation",
    "managedFields",
    "selfLink",
    "ownerReferences",
)


@dataclass(frozen=True, order=True)
class ObjectRef:
    """One object's identity: ``apiVersion``, kind, namespace ("" when cluster-scoped), name."""

    api_version: str
    kind: str
    namespace: str
    name: str

    @property
    def group(self) -> str:
        """The API group ("" for the core group)."""
        return self.api_version.rpartition("/")[0]

    @property
    def group_kind(self) -> tuple[str, str]:
        return (self.group, self.kind)

    @property
    def sort_key(self) -> tuple[str, str, str, str]:
        """Reading order: kind, namespace, name (then version)."""
        return (self.kind, self.namespace, self.name, self.api_version)

    def __str__(self) -> str:
        where = f"{self.namespace}/{self.name}" if self.namespace else self.name
        return f"{self.kind} {where}"


@dataclass(frozen=True)
class OwnerLink:
    """The attributes of one ownerReference that survive a move."""

    controller: bool | None = None
    block_owner_deletion: bool | None = None


def ref_of(obj: Mapping[str, Any]) -> ObjectRef:
    """The identity of a manifest dict."""
    meta = obj.get("metadata") or {}
    return ObjectRef(
        str(obj.get("apiVersion", "")),
        str(obj.get("kind", "")),
        str(meta.get("namespace") or ""),
        str(meta.get("name", "")),
    )


def copy_for_target(
    obj: Mapping[str, Any],
    owners: list[tuple[ObjectRef, str, OwnerLink]],
    source_uid: str,
) -> Object:
    """What to create in the target for ``obj`` (never mutated).

    ``owners`` holds each owner's identity, its UID *in the target* and the reference's
    attributes. Status is dropped here: the mover restores it through the status subresource.
    """
    out = copy.deepcopy(dict(obj))
    out.pop("status", None)
    meta: dict[str, Any] = out.setdefault("metadata", {})
    for key in _SERVER_METADATA:
        meta.pop(key, None)
    if meta.get("name") and meta.get("generateName"):
        meta.pop("generateName")
    annotations = dict(meta.get("annotations") or {})
    annotations.pop(DELETE_FOR_MOVE_ANNOTATION, None)
    annotations[SOURCE_UID_ANNOTATION] = source_uid
    meta["annotations"] = annotations
    if owners:
        meta["ownerReferences"] = [_owner_reference(ref, uid, link) for ref, uid, link in owners]
    return out


def _owner_reference(ref: ObjectRef, uid: str, link: OwnerLink) -> Object:
    reference: Object = {
        "apiVersion": ref.api_version,
        "kind": ref.kind,
        "name": ref.name,
        "uid": uid,
    }
    if link.controller is not None:
        reference["controller"] = link.controller
    if link.block_owner_deletion is not None:
        reference["blockOwnerDeletion"] = link.block_owner_deletion
    return reference
