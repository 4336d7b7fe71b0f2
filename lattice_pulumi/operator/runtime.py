"""The operator's moving parts in one object: state, client, reconciler, queue, metrics.

``Operator`` is what the kopf handlers call (``handlers``) and what tests and the
benchmark drive directly. ``prime`` reads every Lattice object and the inventory of owned
objects before any reconcile, so the first compile already sees the whole graph (no
passing drift while the watches catch up), then queues every service (the full resync).
``observe_*`` feed watch events into the state and queue the changed service (when its
generation is new to us) and the dependents. Every LatticeService reconcile runs from
the one bounded queue, never from kopf's per-object workers: kopf's create/update
handlers would run a thousand reconciles at once at start, retry the ones the API server
could not answer in time, and write their bookkeeping annotations on every service (each
a watch event more). ``converge`` reconciles one service directly (tests);
``check_*`` validate the other kinds and write their status when it changed.
"""

from __future__ import annotations

import contextlib
import datetime
import logging
from collections.abc import Mapping
from typing import Any

from lightkube import AsyncClient

from lattice_pulumi.compile.context import ClusterInfo
from lattice_pulumi.errors import LatticeError
from lattice_pulumi.kube import KubeError, NotFoundError, api_errors
from lattice_pulumi.kube.objects import ResourceCatalog, delete_object, iter_objects, patch_status
from lattice_pulumi.operator import ownership, validation
from lattice_pulumi.operator.children import CellLink, ChildReconciler, ChildrenSettings
from lattice_pulumi.operator.children.refresh import ChildRefresher
from lattice_pulumi.operator.errors import NotYet
from lattice_pulumi.operator.metrics import Metrics
from lattice_pulumi.operator.queue import WorkQueue
from lattice_pulumi.operator.reconcile import FIELD_MANAGER, Outcome, ServiceReconciler
from lattice_pulumi.operator.state import ClusterState, body_key
from lattice_pulumi.operator.status import same_status
from lattice_pulumi.spec.base import API_VERSION
from lattice_pulumi.spec.policy import CedarPolicy

__all__ = ["LATTICE_KINDS", "Operator"]

_log = logging.getLogger(__name__)
# Read at start, in this order: policies and providers before the services that use them.
LATTICE_KINDS = ("CedarPolicy", "SecretProvider", "LatticeExternalService", "LatticeService")


def _now() -> str:
    return datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


class Operator:
    """Everything one operator process keeps, around one lightkube client."""

    def __init__(
        self,
        client: AsyncClient,
        *,
        cluster: ClusterInfo | None = None,
        field_manager: str = FIELD_MANAGER,
        workers: int = 4,
        cell_link: CellLink | None = None,
        children: ChildrenSettings | None = None,
        children_refresh: float = 30.0,
    ) -> None:
        self.client = client
        self.metrics = Metrics()
        self.catalog = ResourceCatalog(client)
        self.state = ClusterState(cluster)
        self.inventory = ownership.Inventory()
        self.reconciler = ServiceReconciler(
            self.state, self.catalog, self.inventory, self.metrics, field_manager=field_manager
        )
        self.queue = WorkQueue(self._work, workers=workers, on_depth=self.metrics.queue_depth.set)
        self.primed = False
        # LatticeClusters other than this operator's own cluster (operator.children)
        self.children = ChildReconciler(
            client, self.catalog, cell_link, settings=children, field_manager=field_manager
        )
        self.refresher = ChildRefresher(self.children, children_refresh)

    # ---- start and stop ----------------------------------------------------------------

    async def prime(self) -> None:
        """Read every Lattice object and the owned objects; queue every service (resync)."""
        listed = set()
        for kind in LATTICE_KINDS:
            try:
                async for body in iter_objects(self.catalog, API_VERSION, kind, {}):
                    self._observe_quietly(kind, body)
                listed.add(kind)
            except KubeError as exc:
                if exc.status != 404:
                    raise
                _log.warning("%s is not served (CRD missing?): not watched at start", kind)
        found = await ownership.load_inventory(self.catalog, self.inventory)
        _log.info("primed: %d services, %d owned objects", len(self.state.bodies), found)
        if "LatticeService" in listed:  # else every owner would look deleted
            await self._drop_orphans()
        self.queue.add(sorted(self.state.bodies))
        self.queue.start()
        self.refresher.start()
        self.primed = True

    async def _drop_orphans(self) -> None:
        """Delete what services deleted while no operator ran still own: the garbage
        collector takes the objects in their namespace too, but not the ones elsewhere."""
        for uid in sorted(self.inventory.owners() - self.state.service_uids()):
            for ref in sorted(self.inventory.drop(uid)):
                await delete_object(self.catalog, ref.as_object())

    async def stop(self) -> None:
        await self.refresher.stop()
        await self.queue.stop()

    def is_own_cluster(self, body: Mapping[str, Any]) -> bool:
        """Whether a LatticeCluster describes the cluster this operator runs in."""
        return str(body["metadata"]["name"]) == self.state.cluster.name

    def _observe_quietly(self, kind: str, body: Mapping[str, Any]) -> None:
        if kind == "LatticeService":
            self.state.observe_service(body)
        elif kind == "LatticeExternalService":
            self.state.observe_external(body)
        elif kind == "SecretProvider":
            self.state.observe_secret_provider(body_key(body), body["metadata"]["name"])
        elif kind == "CedarPolicy":
            checked = validation.check_policy(body, _now())
            if isinstance(checked.model, CedarPolicy):
                self.state.observe_policy(checked.model)

    # ---- services ------------------------------------------------------------------------

    def observe_service(self, body: Mapping[str, Any]) -> None:
        """A watch event of a LatticeService: queue it if its spec is new, and its dependents."""
        key = body_key(body)
        keys = self.state.observe_service(body)
        if self.primed and self.state.wants_converge(key):
            keys.add(key)
        self.queue.add(keys)

    async def forget_service(self, body: Mapping[str, Any]) -> None:
        """A LatticeService was deleted: recompile its dependents, drop what it owned.

        Objects in its namespace go with the garbage collector (owner references); the
        ones elsewhere carry only the labels and are deleted here.
        """
        self.queue.add(self.state.forget_service(body_key(body)))
        uid = body["metadata"].get("uid", "")
        namespace = body["metadata"].get("namespace") or ""
        for ref in self.inventory.drop(uid):
            if ref.namespace != namespace:
                await delete_object(self.catalog, ref.as_object())

    async def converge(self, key: str) -> Outcome | None:
        """Reconcile one service now (a handler's call); raises NotYet or LatticeError."""
        return await self.reconciler.reconcile(key)

    async def _work(self, key: str) -> float | None:
        try:
            await self.reconciler.reconcile(key)
        except NotYet as exc:
            return exc.delay
        except KubeError as exc:
            _log.warning("reconcile of %s: %s", key, exc)
            return 10.0
        except LatticeError:
            return None  # reported in the status; a change of the spec or a peer retries
        return None

    # ---- other kinds ---------------------------------------------------------------------

    async def check_policy(self, body: Mapping[str, Any]) -> validation.Checked:
        checked = validation.check_policy(body, _now())
        key = body_key(body)
        if isinstance(checked.model, CedarPolicy):
            self.queue.add(self.state.observe_policy(checked.model))
        else:
            self.queue.add(self.state.forget_policy(key))
        await self._write_status(body, checked.status)
        return checked

    def forget_policy(self, body: Mapping[str, Any]) -> None:
        self.queue.add(self.state.forget_policy(body_key(body)))

    async def check_secret_provider(self, body: Mapping[str, Any]) -> validation.Checked:
        checked = validation.check_provider(body, _now())
        name = body["metadata"]["name"]
        if checked.model is not None:
            self.queue.add(self.state.observe_secret_provider(body_key(body), name))
        else:
            self.queue.add(self.state.forget_secret_provider(body_key(body), name))
        await self._write_status(body, checked.status)
        return checked

    def forget_secret_provider(self, body: Mapping[str, Any]) -> None:
        self.queue.add(self.state.forget_secret_provider(body_key(body), body["metadata"]["name"]))

    async def check_cloud_provider(self, body: Mapping[str, Any]) -> validation.Checked:
        checked = await validation.check_cloud_provider(body, _now(), self._secret_exists)
        await self._write_status(body, checked.status)
        return checked

    def observe_external(self, body: Mapping[str, Any]) -> None:
        self.queue.add(self.state.observe_external(body))

    def forget_external(self, body: Mapping[str, Any]) -> None:
        self.queue.add(self.state.forget_external(body_key(body)))

    async def _secret_exists(self, namespace: str, name: str) -> bool:
        from lightkube.resources.core_v1 import Secret

        try:
            with api_errors(f"read Secret {namespace}/{name}"):
                await self.client.get(Secret, name, namespace=namespace)
        except NotFoundError:
            return False
        return True

    async def _write_status(self, body: Mapping[str, Any], status: dict[str, Any]) -> None:
        previous = body.get("status") or {}
        if same_status(previous, status):
            return
        old = {c.get("type"): c for c in previous.get("conditions") or []}
        for condition in status.get("conditions", []):
            before = old.get(condition["type"])
            if before is not None and before.get("status") == condition["status"]:
                condition["lastTransitionTime"] = before.get("lastTransitionTime")
        meta = body["metadata"]
        with contextlib.suppress(NotFoundError):
            await patch_status(
                self.catalog,
                body["apiVersion"],
                body["kind"],
                meta["name"],
                meta.get("namespace"),
                status,
            )
