"""Provision one child cluster from its LatticeCluster, then hand it over. Idempotent.

``ChildReconciler.reconcile(body)`` runs one pass of a fixed sequence and raises
``NotYet`` wherever it has to wait, so kopf retries it; a pass killed at any point
(the operator's pod, a SIGKILL in the test) is completed by the next one:

1. **Pending -> Provisioning**: compile (``compile_cluster`` with the cell as parent:
   bootstrap endpoint, CA, token Secret reference), mint the one-time token through the
   cell once (kept while unexpired; ``objects.token_secret``), server-side apply every
   object, prune what this cluster no longer generates;
2. wait for the Cluster API ``Cluster`` phase ``Provisioned`` (the real controller's) and
   the ``<cluster>-kubeconfig`` Secret -> **Enrolling**;
3. wait until the child's agent, having fetched its bundle and enrolled with the token,
   holds a session with the cell -> keep a copy of the kubeconfig, hand the LatticeCluster
   to the child (if it serves the kind) -> **Pivoting** (recorded before anything moves:
   from here on nothing is applied in the parent again);
4. move the Cluster API objects into the child with the pivot engine (``Mover``,
   crash-safe: a rerun adopts what an earlier run copied), delete the emptied
   ``capi-<cluster>`` namespace and the kubeconfig copy -> **Ready**.

Once Ready the parent keeps only the LatticeCluster (its status: phase, add-ons' health
from the agent's reports through the cell, ``refresh``); no Cluster API object of the
child. Each pass holds a lock per cluster.
"""

from __future__ import annotations

import asyncio
import datetime
import logging
from collections.abc import Callable, Mapping
from typing import Any, NoReturn

from lightkube import AsyncClient
from ruamel.yaml import YAML
from ruamel.yaml.error import YAMLError

from lattice_pulumi import kube, pivot
from lattice_pulumi.compile.cluster import ClusterCompileContext, compile_cluster, plan_addons
from lattice_pulumi.compile.cluster.addons import LATTICE_NAMESPACE
from lattice_pulumi.compile.cluster.context import bootstrap_token_secret
from lattice_pulumi.errors import LatticeError, PivotError, SpecErrors
from lattice_pulumi.kube import KubeError
from lattice_pulumi.kube.objects import ResourceCatalog, apply_object, patch_status
from lattice_pulumi.operator.children import addons, objects
from lattice_pulumi.operator.children.access import ParentAccess
from lattice_pulumi.operator.children.link import CellLink, ChildReport
from lattice_pulumi.operator.children.status import PhaseReport, build_child_status, phase_of
from lattice_pulumi.operator.errors import NotYet
from lattice_pulumi.operator.specs import authored_document, model_from_body
from lattice_pulumi.spec.cluster import LatticeCluster
from lattice_pulumi.spec.providers import CloudProvider

__all__ = ["FIELD_MANAGER", "ChildReconciler", "ChildrenSettings"]

FIELD_MANAGER = "lattice-operator"
_log = logging.getLogger(__name__)


def _utc_now() -> datetime.datetime:
    return datetime.datetime.now(datetime.UTC)


class ChildrenSettings:
    """Timing of child provisioning (tests shorten the waits)."""

    def __init__(
        self,
        *,
        token_ttl: datetime.timedelta = datetime.timedelta(hours=2),
        wait_delay: float = 10.0,
        unblock_timeout: float = 300.0,
    ) -> None:
        self.token_ttl = token_ttl
        self.wait_delay = wait_delay
        self.unblock_timeout = unblock_timeout


class ChildReconciler:
    """Provisions, enrols and pivots the LatticeClusters that are not this cluster."""

    def __init__(
        self,
        client: AsyncClient,
        catalog: ResourceCatalog,
        link: CellLink | None,
        *,
        settings: ChildrenSettings | None = None,
        field_manager: str = FIELD_MANAGER,
        clock: Callable[[], datetime.datetime] = _utc_now,
    ) -> None:
        self.client = client
        self.catalog = catalog
        self.parent = ParentAccess(catalog, field_manager)
        self.link = link
        self.settings = settings or ChildrenSettings()
        self.field_manager = field_manager
        self.clock = clock
        self._locks: dict[str, asyncio.Lock] = {}

    async def reconcile(self, body: Mapping[str, Any]) -> str:
        """One pass; the phase reached. ``NotYet`` to wait, ``LatticeError`` when failed."""
        name = body["metadata"]["name"]
        async with self._locks.setdefault(name, asyncio.Lock()):
            return await self._reconcile(body)

    async def _reconcile(self, body: Mapping[str, Any]) -> str:
        generation = int(body["metadata"].get("generation") or 0)
        if self.link is None:
            message = "this operator runs no cell: start it with --cell-state-dir to provision"
            await self._report(body, PhaseReport("Failed", "NotAParent", message, generation))
            raise LatticeError(message)
        phase = phase_of(body.get("status"))
        if phase == "Ready":
            await self.refresh(body)
            return "Ready"
        cluster = await self._model(body, generation)
        if phase != "Pivoting":
            await self._provision(body, cluster, self.link, generation)
        await self._pivot(body, cluster, generation)
        return "Ready"

    async def _model(self, body: Mapping[str, Any], generation: int) -> LatticeCluster:
        try:
            model = model_from_body(body)
        except SpecErrors as exc:
            await self._report(body, PhaseReport("Failed", "InvalidSpec", str(exc), generation))
            raise
        assert isinstance(model, LatticeCluster)
        return model

    # -- 1 to 3: apply, wait for the control plane, wait for the agent ----------------------

    async def _provision(
        self, body: Mapping[str, Any], cluster: LatticeCluster, link: CellLink, generation: int
    ) -> None:
        name, uid = cluster.name, body["metadata"]["uid"]
        cloud = await self._cloud_provider(body, cluster, generation)
        report = await self._child_report(link, name)
        await self._ensure_token(name, uid, link, report)
        context = ClusterCompileContext(
            bootstrap_endpoint=link.bootstrap_endpoint, parent_ca_pem=link.parent_ca_pem
        )
        try:
            compiled = compile_cluster(cluster, cloud, context)
        except LatticeError as exc:
            await self._report(body, PhaseReport("Failed", "CompileError", str(exc), generation))
            raise
        wanted = objects.stamp_child_objects(compiled, name, uid)
        try:
            applied = await self.parent.apply_all(wanted)
            pruned = await self.parent.prune(wanted, objects.capi_namespace(name), uid)
        except KubeError as exc:
            await self._wait(body, "Pending", "ApplyFailed", str(exc), generation)
        plan = addons.addon_statuses(plan_addons(cluster), None)
        if phase_of(body.get("status")) in ("", "Pending", "Failed"):
            _log.info("%s: %d objects applied, %d pruned", name, applied, pruned)
        capi_phase = await self.parent.cluster_phase(name)
        kubeconfig = await self.parent.kubeconfig(name)
        if capi_phase != "Provisioned" or kubeconfig is None:
            message = (
                f"{applied} objects applied; waiting for the control plane "
                f"(Cluster phase {capi_phase or 'unset'}"
                + (", no kubeconfig Secret yet)" if kubeconfig is None else ")")
            )
            await self._wait(
                body, "Provisioning", "WaitingForControlPlane", message, generation, plan
            )
        if report is None or not report.connected:
            report = await self._child_report(link, name)
        if report is None or not report.connected:
            message = "control plane up; waiting for the cluster's agent to enrol and connect"
            await self._wait(body, "Enrolling", "WaitingForAgent", message, generation, plan)
        assert kubeconfig is not None
        await apply_object(
            self.catalog, objects.kubeconfig_copy(name, uid, kubeconfig), self.field_manager
        )
        await self._hand_over(body, _parse_kubeconfig(kubeconfig))
        await self._report(
            body,
            PhaseReport(
                "Pivoting",
                "AgentConnected",
                "agent connected; moving the Cluster API objects into the cluster",
                generation,
                addons.addon_statuses(plan_addons(cluster), report.conditions),
            ),
        )

    async def _child_report(self, link: CellLink, name: str) -> ChildReport | None:
        try:
            return await link.child_report(name)
        except NotYet:
            raise
        except LatticeError as exc:  # the cell restarts or is unreachable: wait for it
            raise NotYet(
                str(exc), reason="CellUnreachable", delay=self.settings.wait_delay
            ) from exc

    async def _cloud_provider(
        self, body: Mapping[str, Any], cluster: LatticeCluster, generation: int
    ) -> CloudProvider:
        ref = cluster.spec.provider_ref
        found = await self.parent.get(
            "lattice.dev/v1alpha1", "CloudProvider", LATTICE_NAMESPACE, ref
        )
        if found is None:
            message = f"waiting for CloudProvider {LATTICE_NAMESPACE}/{ref}"
            await self._wait(body, "Pending", "CloudProviderMissing", message, generation)
        assert found is not None
        try:
            model = model_from_body(found)
        except SpecErrors as exc:
            await self._report(
                body, PhaseReport("Failed", "InvalidCloudProvider", str(exc), generation)
            )
            raise
        assert isinstance(model, CloudProvider)
        return model

    async def _ensure_token(
        self, name: str, uid: str, link: CellLink, report: ChildReport | None
    ) -> None:
        """Mint the token once; again only if it expired before the agent connected."""
        namespace = objects.capi_namespace(name)
        existing = await self.parent.get("v1", "Secret", namespace, bootstrap_token_secret(name))
        if existing is not None and (
            (report is not None and report.connected)
            or not objects.token_expired(existing, self.clock())
        ):
            return
        await apply_object(
            self.catalog,
            {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": namespace}},
            self.field_manager,
        )
        issued = await asyncio.to_thread(link.issue_token, name)
        await apply_object(
            self.catalog, objects.token_secret(name, issued, uid), self.field_manager
        )
        _log.info("%s: issued bootstrap token %s", name, issued.token_id)

    async def _hand_over(self, body: Mapping[str, Any], kubeconfig: dict[str, Any]) -> None:
        """The LatticeCluster (as authored) into the child, so it can manage itself later."""
        child = kube.connect_with(kubeconfig, field_manager=self.field_manager)
        try:
            catalog = ResourceCatalog(child)
            await apply_object(catalog, authored_document(body), self.field_manager)
        except KubeError as exc:
            if exc.status != 404:
                raise
            _log.info(
                "%s does not serve LatticeCluster yet: not handed over", body["metadata"]["name"]
            )
        finally:
            await child.aclose()

    # -- 4: pivot ---------------------------------------------------------------------------

    async def _pivot(
        self, body: Mapping[str, Any], cluster: LatticeCluster, generation: int
    ) -> None:
        name = cluster.name
        raw = await self.parent.kubeconfig_copy(name)
        if raw is None:
            raw = await self.parent.kubeconfig(name)
        if raw is None:
            message = "the kubeconfig of the cluster is gone mid-pivot; cannot reach it"
            await self._report(body, PhaseReport("Failed", "KubeconfigLost", message, generation))
            raise LatticeError(message)
        child = kube.connect_with(_parse_kubeconfig(raw), field_manager="lattice-pivot", timeout=30)
        options = pivot.MoveOptions(
            cluster=name,
            namespace=objects.capi_namespace(name),
            unblock_timeout=self.settings.unblock_timeout,
        )
        source = pivot.ClusterAccess(self.client, "parent")
        try:
            result = await pivot.Mover(source, pivot.ClusterAccess(child, name), options).move()
            await _release_leftovers(source, result)
        except (PivotError, KubeError) as exc:
            await self._wait(body, "Pivoting", "PivotRetrying", str(exc), generation)
        finally:
            await child.aclose()
        _log.info("%s: pivot moved %d, adopted %d", name, result.created, result.adopted)
        await self.parent.delete("v1", "Namespace", None, objects.capi_namespace(name))
        await self.parent.delete(
            "v1", "Secret", objects.KUBECONFIG_COPY_NAMESPACE, objects.kubeconfig_copy_name(name)
        )
        report = await self._child_report(self.link, name) if self.link is not None else None
        statuses = addons.addon_statuses(
            plan_addons(cluster), report.conditions if report else None
        )
        message = f"pivoted; the cluster manages itself; {addons.summary(statuses)}"
        await self._report(body, PhaseReport("Ready", "Pivoted", message, generation, statuses))

    # -- after Ready: add-on health -----------------------------------------------------------

    async def refresh(self, body: Mapping[str, Any]) -> None:
        """Re-read the child's add-on health from the cell (Ready clusters only)."""
        if self.link is None or phase_of(body.get("status")) != "Ready":
            return
        try:
            cluster = model_from_body(body)
        except SpecErrors:
            return
        assert isinstance(cluster, LatticeCluster)
        report = await self.link.child_report(cluster.name)
        if report is None:
            return  # the cell does not know it (restarted): keep what the status says
        statuses = addons.addon_statuses(plan_addons(cluster), report.conditions)
        generation = int(body["metadata"].get("generation") or 0)
        message = f"pivoted; the cluster manages itself; {addons.summary(statuses)}"
        await self._report(body, PhaseReport("Ready", "Pivoted", message, generation, statuses))

    # -- status -------------------------------------------------------------------------------

    async def _wait(
        self,
        body: Mapping[str, Any],
        phase: Any,
        reason: str,
        message: str,
        generation: int,
        statuses: list[dict[str, Any]] | None = None,
    ) -> NoReturn:
        await self._report(body, PhaseReport(phase, reason, message, generation, statuses))
        raise NotYet(message, reason=reason, delay=self.settings.wait_delay)

    async def _report(self, body: Mapping[str, Any], report: PhaseReport) -> None:
        previous = body.get("status") or {}
        status = build_child_status(previous, report, self.clock().strftime("%Y-%m-%dT%H:%M:%SZ"))
        if _same(previous, status):
            return
        meta = body["metadata"]
        try:
            await patch_status(
                self.catalog, body["apiVersion"], body["kind"], meta["name"], None, status
            )
        except kube.NotFoundError:
            return
        if isinstance(body, dict):
            body["status"] = {**previous, **status}  # the rest of this pass sees it


async def _release_leftovers(source: pivot.ClusterAccess, result: pivot.MoveResult) -> None:
    """Let moved objects still being deleted in the parent go.

    A parent controller whose cache had not seen the pause yet can put its finalizer back
    between the mover's finalizer removal and its delete (seen with the real
    MachineDeployment controller); it then never removes it, as the Cluster is gone. The
    copies are complete in the child by now, so the parent's leftovers lose their
    finalizers here and the ``capi-<cluster>`` namespace can go.
    """
    for item in result.plan.objects() if result.plan is not None else []:
        if not item.delete:
            continue
        left = await source.get(item.ref)
        meta = (left or {}).get("metadata") or {}
        if meta.get("deletionTimestamp") and meta.get("finalizers"):
            await source.merge_patch(item.ref, {"metadata": {"finalizers": None}})
            _log.info("released %s (finalizers put back by a parent controller)", item.ref)


def _same(previous: Mapping[str, Any], status: Mapping[str, Any]) -> bool:
    def strip(value: Mapping[str, Any]) -> dict[str, Any]:
        out = {k: v for k, v in value.items() if k != "conditions"}
        out["conditions"] = [
            {k: v for k, v in c.items() if k != "lastTransitionTime"}
            for c in value.get("conditions") or []
        ]
        return out

    return all(previous.get(k) == v for k, v in strip(status).items() if k != "conditions") and (
        strip(previous)["conditions"] == strip(status)["conditions"]
    )


def _parse_kubeconfig(raw: bytes) -> dict[str, Any]:
    try:
        data = YAML(typ="safe", pure=True).load(raw.decode("utf-8"))
    except (UnicodeDecodeError, YAMLError) as exc:
        raise LatticeError(
            f"the cluster's kubeconfig Secret is not YAML: {type(exc).__name__}"
        ) from None
    if not isinstance(data, dict):
        raise LatticeError("the cluster's kubeconfig Secret holds no kubeconfig mapping")
    return data
