"""Keep the operator's own cluster converged to its LatticeCluster: read, plan, write.

Which LatticeCluster is "itself": the one named like the cluster the operator runs in,
``lattice operator run --cluster NAME`` (``LATTICE_CLUSTER_NAME``, which the bootstrap
bundle sets on the operator's Deployment, ``compile.operator_bundle``). After the pivot
that cluster holds its own Cluster API objects in ``capi-<name>``.

``SelfCluster`` gets the latest body from the LatticeCluster watch (``observe``) and runs
one reconcile at a time in its own task: at each change and every ``resync`` seconds,
since what it waits for (the control plane reporting a version, machines becoming
available) happens on Cluster API objects, not on the LatticeCluster. A reconcile reads
the Cluster, the control plane, the pools' MachineDeployments and the MachineHealthChecks
(``read_observed``), asks the pure planner (``cluster_plan.plan_cluster``) what to change,
writes that (merge patches; server-side apply for health checks) and the status. An API
error is logged and retried at the next resync; an invalid spec is reported as phase
``Failed``.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime
import logging
from collections.abc import Mapping
from typing import Any

from lightkube.types import PatchType

from lattice_pulumi.compile import apiversions
from lattice_pulumi.compile.cluster import objects
from lattice_pulumi.errors import LatticeError
from lattice_pulumi.kube import KubeError, NotFoundError, api_errors
from lattice_pulumi.kube.objects import ResourceCatalog, apply_object, patch_status
from lattice_pulumi.operator import cluster_status
from lattice_pulumi.operator.cluster_observed import Observed
from lattice_pulumi.operator.cluster_plan import (
    Change,
    Plan,
    control_plane_kind,
    desired_health_checks,
    plan_cluster,
)
from lattice_pulumi.operator.reconcile import FIELD_MANAGER
from lattice_pulumi.operator.specs import model_from_body
from lattice_pulumi.spec.cluster import LatticeCluster

__all__ = ["DEFAULT_RESYNC_SECONDS", "SelfCluster", "read_observed"]

_log = logging.getLogger(__name__)
DEFAULT_RESYNC_SECONDS = 10.0


def _now() -> str:
    return datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


async def _get(
    catalog: ResourceCatalog, api_version: str, kind: str, namespace: str, name: str
) -> dict[str, Any] | None:
    """One object as a plain dict; None when it (or its kind) does not exist."""
    try:
        served = await catalog.kind(api_version, kind)
        with api_errors(f"read {kind} {namespace}/{name}"):
            item = await catalog.client.get(served.resource, name, namespace=namespace)
    except NotFoundError:
        return None
    except KubeError as exc:
        if exc.status == 404:  # the kind is not served: no Cluster API here
            return None
        raise
    body = item.to_dict() if hasattr(item, "to_dict") else dict(item)
    return {"apiVersion": api_version, "kind": kind, **dict(body)}


async def read_observed(catalog: ResourceCatalog, cluster: LatticeCluster) -> Observed:
    """The cluster's Cluster API objects the planner looks at."""
    namespace = objects.capi_namespace(cluster)
    core_api = apiversions.API_VERSIONS["MachineDeployment"]
    found = await _get(
        catalog, apiversions.API_VERSIONS["Cluster"], "Cluster", namespace, cluster.name
    )
    plane_api, plane_kind = control_plane_kind(cluster)
    plane = await _get(
        catalog, plane_api, plane_kind, namespace, objects.control_plane_name(cluster)
    )
    deployments = {}
    for pool in sorted(cluster.spec.nodes.worker_pools):
        body = await _get(
            catalog, core_api, "MachineDeployment", namespace, objects.pool_name(cluster, pool)
        )
        if body is not None:
            deployments[pool] = body
    checks = {}
    for check in desired_health_checks(cluster):
        name = check["metadata"]["name"]
        body = await _get(catalog, check["apiVersion"], check["kind"], namespace, name)
        if body is not None:
            checks[name] = body
    return Observed(found, plane, deployments, checks)


async def _write(catalog: ResourceCatalog, change: Change, field_manager: str) -> None:
    if change.action == "apply":
        await apply_object(catalog, change.body, field_manager)
        return
    served = await catalog.kind(change.api_version, change.kind)
    with api_errors(f"patch {change.identity}"):
        await catalog.client.patch(
            served.resource,
            change.name,
            change.body,
            namespace=change.namespace,
            patch_type=PatchType.MERGE,
            field_manager=field_manager,
        )


def _comparable(value: Any) -> Any:
    """A status without transition times and None values (a merge patch drops those)."""
    if isinstance(value, Mapping):
        return {
            k: _comparable(v)
            for k, v in value.items()
            if v is not None and k != "lastTransitionTime"
        }
    if isinstance(value, list):
        return [_comparable(v) for v in value]
    return value


class SelfCluster:
    """The reconcile loop of the operator's own LatticeCluster (module docstring)."""

    def __init__(
        self,
        catalog: ResourceCatalog,
        name: str,
        *,
        resync: float = DEFAULT_RESYNC_SECONDS,
        field_manager: str = FIELD_MANAGER,
    ) -> None:
        self.catalog = catalog
        self.name = name
        self.resync = resync
        self.field_manager = field_manager
        self.reconciles = 0
        self._body: dict[str, Any] | None = None
        self._wake = asyncio.Event()
        self._task: asyncio.Task[None] | None = None

    def observe(self, body: Mapping[str, Any]) -> None:
        """The latest LatticeCluster body: reconcile soon (starts the loop on first use)."""
        self._body = dict(body)
        self._wake.set()
        if self._task is None or self._task.done():
            self._task = asyncio.create_task(self._run(), name=f"self-cluster {self.name}")

    def forget(self) -> None:
        """The LatticeCluster was deleted: leave the Cluster API objects as they are."""
        self._body = None

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None

    async def _run(self) -> None:
        while True:
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(self.resync):
                    await self._wake.wait()
            self._wake.clear()
            body = self._body
            if body is None:
                continue
            try:
                await self.reconcile(body)
            except KubeError as exc:
                _log.warning(
                    "LatticeCluster %s: %s (retried in %.0fs)", self.name, exc, self.resync
                )
            except Exception:  # the loop outlives any one reconcile; the next resync retries
                _log.exception("LatticeCluster %s: reconcile failed", self.name)

    async def reconcile(self, body: Mapping[str, Any]) -> Plan | None:
        """One pass: read, plan, write changes and status; None when the spec is invalid."""
        self.reconciles += 1
        generation = int(body.get("metadata", {}).get("generation") or 0)
        try:
            model = model_from_body(body)
        except LatticeError as exc:
            await self._write_status(body, cluster_status.failed_status(str(exc), generation))
            return None
        assert isinstance(model, LatticeCluster)
        observed = await read_observed(self.catalog, model)
        plan = plan_cluster(model, observed, generation)
        for change in plan.changes:
            _log.info("LatticeCluster %s: %s (%s)", self.name, change.why, change.identity)
            await _write(self.catalog, change, self.field_manager)
        await self._write_status(body, plan.status)
        return plan

    async def _write_status(self, body: Mapping[str, Any], status: dict[str, Any]) -> None:
        previous = body.get("status") or {}
        stamped = cluster_status.stamp_transitions(previous, status, _now())
        if _comparable(previous) == _comparable(stamped):
            return
        meta = body["metadata"]
        with contextlib.suppress(NotFoundError):
            await patch_status(
                self.catalog, body["apiVersion"], body["kind"], meta["name"], None, stamped
            )
