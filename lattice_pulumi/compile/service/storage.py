"""Volumes of a service: owned PVCs, shared volumes owned elsewhere, and emptyDir mounts.

A ``volume`` resource with ``size`` is owned here: a PersistentVolumeClaim named after its
``id`` (shared) or ``<service>-<resource>`` (private). Without ``size`` it references a
volume another service in the namespace owns; that owner must list this service in
``allowedConsumers`` and Cedar must allow it (``AccessVolume``). A ReadWriteOnce volume can
only be shared on one node, so consumers get pod affinity to the owner.
Pod volume names are the resource names; emptyDir mounts are ``scratch-<n>``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from lattice_pulumi.compile import labels
from lattice_pulumi.compile.apiversions import header
from lattice_pulumi.compile.context import CompileContext, service_key
from lattice_pulumi.errors import CompileError, PolicyDenied
from lattice_pulumi.policy import denial_message
from lattice_pulumi.policy.requests import volume_access
from lattice_pulumi.spec import placeholders
from lattice_pulumi.spec.service import LatticeService
from lattice_pulumi.spec.service_resources import VolumeResource

__all__ = ["PodStorage", "build_storage", "claim_name"]


@dataclass
class PodStorage:
    """What the pod needs for storage: volumes, mounts per container, PVCs, affinity."""

    claims: list[dict[str, Any]]
    volumes: list[dict[str, Any]]
    mounts: dict[str, list[dict[str, Any]]]
    affinity_to: list[str]


def claim_name(service: LatticeService, resource: str, decl: VolumeResource) -> str:
    return decl.id if decl.id else f"{service.name}-{resource}"


def _owner_of(
    service: LatticeService, decl: VolumeResource, context: CompileContext
) -> tuple[LatticeService, VolumeResource] | None:
    for other in context.services.values():
        if other.namespace != service.namespace:
            continue
        for owned in other.spec.workload.resources.values():
            if isinstance(owned, VolumeResource) and owned.owned and owned.id == decl.id:
                return other, owned
    return None


def _claim(service: LatticeService, name: str, decl: VolumeResource) -> dict[str, Any]:
    obj = header("PersistentVolumeClaim", name, service.namespace)
    obj["metadata"]["labels"] = labels.service_labels(service.name)
    spec: dict[str, Any] = {
        "accessModes": [decl.params.access_mode],
        "resources": {"requests": {"storage": decl.params.size}},
    }
    if decl.params.storage_class:
        spec["storageClassName"] = decl.params.storage_class
    obj["spec"] = spec
    return obj


def _check_shared(
    service: LatticeService, resource: str, decl: VolumeResource, context: CompileContext
) -> tuple[LatticeService, VolumeResource]:
    subject = f"service {service.namespace}/{service.name}"
    found = _owner_of(service, decl, context)
    if found is None:
        raise CompileError(
            f"shared volume '{decl.id}' has no known owner in namespace {service.namespace} "
            "(a service declaring it with params.size)",
            subject=subject,
            path=("spec", "resources", resource),
        )
    owner, owned = found
    request = volume_access(
        service.namespace,
        service.name,
        service.namespace,
        decl.id or "",
        service_key(owner.namespace, owner.name),
        [service_key(owner.namespace, c) for c in owned.params.allowed_consumers],
    )
    decision = context.authorizer.authorize(request)
    if not decision.allowed:
        hint = (
            f" (the owner {owner.name} must list {service.name} in allowedConsumers)"
            if service.name not in owned.params.allowed_consumers
            else ""
        )
        raise PolicyDenied(denial_message(request, decision.reason) + hint)
    return owner, owned


def build_storage(service: LatticeService, context: CompileContext) -> PodStorage:
    storage = PodStorage(claims=[], volumes=[], mounts={}, affinity_to=[])
    used: set[str] = set()
    scratch = 0
    for _, container_name, container in service.spec.iter_containers():
        mounts = storage.mounts.setdefault(container_name, [])
        for target, mount in container.volumes.items():
            if mount.source is None:
                scratch += 1
                volume_name = f"scratch-{scratch}"
                empty: dict[str, Any] = {}
                if mount.medium:
                    empty["medium"] = mount.medium
                if mount.size_limit:
                    empty["sizeLimit"] = mount.size_limit
                storage.volumes.append({"name": volume_name, "emptyDir": empty})
            else:
                volume_name = _source_resource(mount.source)
                used.add(volume_name)
            entry: dict[str, Any] = {"name": volume_name, "mountPath": target}
            if mount.path:
                entry["subPath"] = mount.path
            if mount.read_only:
                entry["readOnly"] = True
            mounts.append(entry)
    for resource, decl in service.spec.workload.resources.items():
        if not isinstance(decl, VolumeResource):
            continue
        if decl.owned:  # owned claims exist even when only consumers mount them
            storage.claims.append(_claim(service, claim_name(service, resource, decl), decl))
        if resource not in used:
            continue
        if decl.ephemeral:  # a Score volume with nothing said: the platform's emptyDir
            storage.volumes.append({"name": resource, "emptyDir": {}})
            continue
        if not decl.owned:
            owner, owned = _check_shared(service, resource, decl, context)
            if owned.params.access_mode == "ReadWriteOnce":
                storage.affinity_to.append(owner.name)
        storage.volumes.append(
            {
                "name": resource,
                "persistentVolumeClaim": {"claimName": claim_name(service, resource, decl)},
            }
        )
    return storage


def _source_resource(source: str) -> str:
    (ref,) = placeholders.iter_references(source)  # the spec checked the shape
    return ref[1]
