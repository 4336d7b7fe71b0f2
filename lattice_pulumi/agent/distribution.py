"""The agent's side of distribution: apply what the parent hands down, prune what it dropped.

:class:`DistributionHandler` is a :class:`lattice_pulumi.agent.commands.CommandHandler` for
``SyncResources`` of the kinds in ``protocol.distribution.DISTRIBUTED_KINDS``. Each command
holds the full set of one kind meant for this cluster. The handler lists every object of that
kind here, plans with :func:`lattice_pulumi.agent.distribution_plan.plan_sync`, and then:

- creates with a plain POST (an object of that name made meanwhile makes it fail with 409,
  reported as a conflict; server-side apply would have merged into the local object), then
  files the new object's fields as applied by ``FIELD_MANAGER`` (see ``_create``);
- updates with server-side apply under ``FIELD_MANAGER``, the current resourceVersion as a
  precondition (so a local object that replaced ours is never written);
- deletes with the uid as a precondition (a local object that replaced ours is never deleted).

Conflicts and failures go back in the reply (``ApplyResult.problems``); the rest of the set is
applied anyway. A malformed set (wrong kind, missing markers, a name twice) is refused whole.
The agent's RBAC allows exactly these verbs on these kinds (``compile.agent.RULES``).
"""

from __future__ import annotations

import json
import logging
from collections.abc import Mapping
from typing import Any

from lightkube import AsyncClient

from lattice_pulumi import kube
from lattice_pulumi.agent.distribution_plan import SyncPlan, key_of, plan_sync
from lattice_pulumi.errors import LatticeError
from lattice_pulumi.kube import objects
from lattice_pulumi.protocol import pb
from lattice_pulumi.protocol.distribution import (
    API_VERSION,
    DISTRIBUTED_BY_LABEL,
    DISTRIBUTED_KINDS,
    FIELD_MANAGER,
    ORIGIN_ANNOTATION,
)

__all__ = ["DistributionError", "DistributionHandler"]

log = logging.getLogger(__name__)


class DistributionError(LatticeError):
    """A SyncResources command this agent refuses (the reply says why)."""


class DistributionHandler:
    """Applies distributed CedarPolicies, CloudProviders and SecretProviders in this cluster."""

    def __init__(self, client: AsyncClient, *, field_manager: str = FIELD_MANAGER) -> None:
        self.catalog = objects.ResourceCatalog(client)
        self.field_manager = field_manager
        self.syncs = 0  # SyncResources carried out (tests and logs)

    async def apply_manifests(self, command: pb.ApplyManifests) -> pb.ApplyResult:
        raise DistributionError("this agent applies distributed objects only (SyncResources)")

    async def sync_resources(self, command: pb.SyncResources) -> pb.ApplyResult:
        desired = _parse(command)
        kind = await self.catalog.kind(API_VERSION, command.kind)
        current = [
            obj async for obj in objects.iter_objects(self.catalog, API_VERSION, kind.kind, {})
        ]
        try:
            plan = plan_sync(desired, current)
        except ValueError as exc:
            raise DistributionError(f"SyncResources of {command.kind}: {exc}") from None
        result = await self._carry_out(kind, plan)
        self.syncs += 1
        log.info(
            "synced %s: %d applied, %d unchanged, %d deleted, %d problems",
            command.kind,
            result.applied,
            result.unchanged,
            result.deleted,
            len(result.problems),
        )
        return result

    async def _carry_out(self, kind: objects.Kind, plan: SyncPlan) -> pb.ApplyResult:
        result = pb.ApplyResult(unchanged=len(plan.unchanged))
        for conflict in plan.conflicts:
            result.problems.append(_problem(conflict.desired, "Conflict", conflict.message))
        for body in plan.create:
            await self._attempt(result, body, self._create(kind, body), taken=True)
        for update in plan.update:
            version = update.current["metadata"].get("resourceVersion", "")
            await self._attempt(result, update.desired, self._apply(update.desired, version))
        for held in plan.delete:
            if await self._delete(kind, held):
                result.deleted += 1
        return result

    @staticmethod
    async def _attempt(
        result: pb.ApplyResult, body: dict[str, Any], action: Any, *, taken: bool = False
    ) -> None:
        """Await ``action``; a failure becomes a problem. For a create (``taken``) a 409
        means a local object took the name meanwhile; for an update, that ours changed
        since it was listed (a Failed problem: the cell retries)."""
        try:
            await action
        except kube.KubeError as exc:
            if taken and exc.status == 409:
                message = f"{exc}: a local object holds the name; kept"
                result.problems.append(_problem(body, "Conflict", message))
            else:
                result.problems.append(_problem(body, "Failed", str(exc)))
        else:
            result.applied += 1

    async def _create(self, kind: objects.Kind, body: dict[str, Any]) -> None:
        """POST ``body``, then record its fields as applied by this manager.

        A POST files every field under an "Update" entry of the manager; a later apply that
        leaves a field out would not remove it (another operation owns it). Turning the
        entry into an "Apply" one, guarded by the new uid, makes the next apply the sole
        owner of what it sets, so a field the parent dropped disappears here too.
        """
        namespace, name = key_of(body)
        http = kube.http_client(self.catalog.client)
        path = f"{_collection(kind, namespace)}/{name}"
        with kube.api_errors(f"create {kind.kind} {namespace}/{name}"):
            response = await http.post(
                _collection(kind, namespace), json=body, params={"fieldManager": self.field_manager}
            )
            response.raise_for_status()
            created = response.json()
        meta = created["metadata"]
        fields = [
            {**entry, "operation": "Apply"} if entry.get("manager") == self.field_manager else entry
            for entry in meta.get("managedFields", [])
        ]
        claim = [
            {"op": "test", "path": "/metadata/uid", "value": meta["uid"]},
            {"op": "replace", "path": "/metadata/managedFields", "value": fields},
        ]
        with kube.api_errors(f"record the fields of {kind.kind} {namespace}/{name} as applied"):
            response = await http.patch(
                path,
                json=claim,
                headers={"Content-Type": "application/json-patch+json"},
                params={"fieldManager": self.field_manager},
            )
            response.raise_for_status()

    async def _apply(self, body: dict[str, Any], resource_version: str) -> None:
        applied = json.loads(json.dumps(body))
        applied["metadata"]["resourceVersion"] = resource_version
        await objects.apply_object(self.catalog, applied, self.field_manager)

    async def _delete(self, kind: objects.Kind, held: Mapping[str, Any]) -> bool:
        namespace, name = key_of(held)
        uid = held["metadata"].get("uid")
        http = kube.http_client(self.catalog.client)
        options = {"apiVersion": "v1", "kind": "DeleteOptions", "preconditions": {"uid": uid}}
        with kube.api_errors(f"delete {kind.kind} {namespace}/{name}"):
            response = await http.request(
                "DELETE", f"{_collection(kind, namespace)}/{name}", json=options
            )
            if response.status_code in (404, 409):  # gone, or no longer ours
                return False
            response.raise_for_status()
        return True


def _collection(kind: objects.Kind, namespace: str) -> str:
    return f"/apis/{kind.api_version}/namespaces/{namespace}/{kind.plural}"


def _problem(body: Mapping[str, Any], reason: str, message: str) -> pb.SyncProblem:
    namespace, name = key_of(body)
    return pb.SyncProblem(
        kind=str(body.get("kind", "")),
        namespace=namespace,
        name=name,
        reason=reason,
        message=message,
    )


def _parse(command: pb.SyncResources) -> list[dict[str, Any]]:
    """The objects of ``command``, each checked to be a marked object of its kind."""
    if command.kind not in DISTRIBUTED_KINDS:
        wanted = ", ".join(DISTRIBUTED_KINDS)
        raise DistributionError(f"SyncResources of {command.kind!r}: expected one of {wanted}")
    parsed = []
    for index, raw in enumerate(command.resources):
        where = f"SyncResources of {command.kind}: resources[{index}]"
        try:
            obj = json.loads(raw)
        except ValueError as exc:
            raise DistributionError(f"{where}: not JSON ({exc})") from None
        meta = obj.get("metadata") if isinstance(obj, dict) else None
        if not isinstance(meta, dict):
            raise DistributionError(f"{where}: expected an object with metadata")
        if obj.get("apiVersion") != API_VERSION or obj.get("kind") != command.kind:
            raise DistributionError(f"{where}: expected {API_VERSION} {command.kind}")
        if not meta.get("name") or not meta.get("namespace"):
            raise DistributionError(f"{where}: metadata.name and metadata.namespace are required")
        if not (meta.get("labels") or {}).get(DISTRIBUTED_BY_LABEL) or not (
            meta.get("annotations") or {}
        ).get(ORIGIN_ANNOTATION):
            raise DistributionError(
                f"{where}: expected the {DISTRIBUTED_BY_LABEL} label and "
                f"{ORIGIN_ANNOTATION} annotation"
            )
        parsed.append(obj)
    return parsed
