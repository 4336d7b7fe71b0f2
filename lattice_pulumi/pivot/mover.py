"""The mover: runs a move in fixed phases, one readable sequence per entry point.

``move``: discover (source) -> plan -> preflight (collect-all) -> pause (source) -> wait for
``block-move`` annotations to go -> reread (source) -> create groups in the target, owners
first -> delete groups from the source in reverse -> resume (target). ``to_directory`` and
``from_directory`` reuse the same graph, plan and writers; a reverse pivot is a move with
source and target swapped.

Crash safety and resumption (no journal needed): every object created in the target carries
``pivot.lattice.dev/source-uid`` with its source UID. A rerun discovers what is still in
the source, finds those annotated copies in the target during preflight and *adopts* them
(keeps their UID for the ownerReferences of what follows, restores status again) instead of
creating twice; objects already deleted from the source were deleted only after everything
was created, so they are complete in the target. If the source holds no selected Cluster
any more (the previous run got into the delete phase), the run deletes from the source what
the target holds copies of (:func:`~lattice_pulumi.pivot.plan.plan_leftovers`: the
ClusterClass of the last delete group, say) and resumes the target's Clusters and
ClusterClasses. Pause and delete are idempotent (a missing object is done). So a move
killed at any step completes on rerun with nothing lost and nothing duplicated.

Objects are written as they are *after* the pause: once the Clusters and ClusterClasses
are paused, the mover lists everything again and plans anew (``reread``), so a change made
between discovery and pause (by a controller or a user) is what the target gets. Shared
objects (global hierarchies, e.g. an ``AWSClusterStaticIdentity`` and its Secret) are
created only when the target lacks them, never overwritten and never deleted. Status is
restored through the status subresource for every kind that has one. ``dry_run`` reaches
every writer: each logs what it would do and returns early.

One central class past 400 lines: its phases share one run's graph, plan and result; the
I/O lives in :mod:`~lattice_pulumi.pivot.access`, :mod:`~lattice_pulumi.pivot.discovery`,
:mod:`~lattice_pulumi.pivot.preflight` and :mod:`~lattice_pulumi.pivot.directory`.
"""

from __future__ import annotations

import asyncio
import copy
import functools
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from lattice_pulumi.errors import PivotError
from lattice_pulumi.kube import KubeError
from lattice_pulumi.pivot import directory, discovery, preflight
from lattice_pulumi.pivot.access import ClusterAccess
from lattice_pulumi.pivot.events import EventKind, Observer, PivotEvent, ignore
from lattice_pulumi.pivot.graph import ObjectGraph, build_graph
from lattice_pulumi.pivot.kinds import KindInfo, discover_kinds
from lattice_pulumi.pivot.objects import (
    BLOCK_MOVE_ANNOTATION,
    CAPI_GROUP,
    DELETE_FOR_MOVE_ANNOTATION,
    PAUSED_ANNOTATION,
    SOURCE_UID_ANNOTATION,
    Object,
    ObjectRef,
    copy_for_target,
    ref_of,
)
from lattice_pulumi.pivot.plan import (
    MovePlan,
    PlannedObject,
    plan_leftovers,
    plan_move,
    select_clusters,
)

__all__ = ["DEFAULT_OPTIONS", "MoveOptions", "MoveResult", "Mover"]

log = logging.getLogger(__name__)

# Reads after a delete until the object is gone (a controller may re-add its finalizer).
_GONE_CHECKS = 100
_GONE_PAUSE = 0.05


@dataclass(frozen=True)
class MoveOptions:
    """What to move and how."""

    cluster: str | None = None
    namespace: str | None = None
    dry_run: bool = False
    concurrency: int = 16  # parallel writes inside one group
    unblock_timeout: float = 300.0  # seconds to wait for block-move annotations to go
    require_provisioned: bool = True


DEFAULT_OPTIONS = MoveOptions()


@dataclass
class MoveResult:
    """What a run did (or, in a dry run, would do)."""

    plan: MovePlan | None = None
    created: int = 0
    adopted: int = 0
    deleted: int = 0
    saved: int = 0
    shared: int = 0  # shared objects the target had already (left as they were)
    resumed_only: bool = False
    uid_map: dict[str, str] = field(default_factory=dict)


class Mover:
    """One move between two clusters (either may be None for the directory entry points)."""

    def __init__(
        self,
        source: ClusterAccess | None,
        target: ClusterAccess | None,
        options: MoveOptions = DEFAULT_OPTIONS,
        observer: Observer = ignore,
    ) -> None:
        self.source = source
        self.target = target
        self.options = options
        self.observe = observer
        self.result = MoveResult()
        self._graph = ObjectGraph()
        self._existing: dict[ObjectRef, Object] = {}
        self._limit = asyncio.Semaphore(max(1, options.concurrency))

    # -- entry points ---------------------------------------------------------------------

    async def move(self) -> MoveResult:
        """Move the selected Clusters from source to target."""
        source, target = self._require(self.source, "source"), self._require(self.target, "target")
        kinds = await self._discover(source)
        target.register(kinds)
        if not select_clusters(self._graph, self.options.cluster, self.options.namespace):
            return await self._finish_deleting(source, target, kinds)
        plan = self._plan()
        await self._preflight(plan, target, self.options.require_provisioned)
        await self._pause(source, plan)
        await self._wait_unblocked(source, plan)
        plan = await self._reread(source, kinds, plan)
        await self._preflight(plan, target, provisioned=False, phase="")
        await self._create_all(target, plan)
        await self._delete_all(source, plan)
        await self._resume(target, plan)
        return self.result

    async def to_directory(self, path: Path) -> MoveResult:
        """Save the selected Clusters' objects to ``path``; the source keeps running."""
        source = self._require(self.source, "source")
        kinds = await self._discover(source)
        plan = self._plan()
        await self._pause(source, plan)
        plan = await self._reread(source, kinds, plan)
        for index, group in enumerate(plan.create_groups):
            await self._run_group("save", index, group, lambda item: self._save(path, item))
        await self._resume(source, plan, phase="resume-source")
        return self.result

    async def from_directory(self, path: Path) -> MoveResult:
        """Restore a saved object set into the target (same plan, same writers)."""
        target = self._require(self.target, "target")
        objects = directory.load_objects(path)
        kinds = await self._with_kinds(target)
        self._graph = build_graph(objects, kinds)
        self._done("discover", len(objects))
        log.info("restore: read %d objects from %s", len(objects), path)
        target.register(kinds)
        plan = self._plan()
        self._existing = await preflight.check(
            self._graph, plan, target, kinds, require_provisioned=False
        )
        self._done("preflight", plan.size)
        await self._create_all(target, plan)
        await self._resume(target, plan)
        return self.result

    # -- phases ---------------------------------------------------------------------------

    async def _discover(self, source: ClusterAccess) -> list[KindInfo]:
        kinds = await self._with_kinds(source)
        objects = await discovery.list_objects(source, kinds, self.options.namespace)
        self._graph = build_graph(objects, kinds)
        log.info("discover: %d objects of %d kinds", len(objects), len(kinds))
        self._done("discover", len(objects))
        return kinds

    async def _reread(
        self, source: ClusterAccess, kinds: list[KindInfo], paused: MovePlan
    ) -> MovePlan:
        """List everything again now that it is paused and plan anew: what is copied is
        the state after the pause, not the one discovery saw."""
        objects = await discovery.list_objects(source, kinds, self.options.namespace)
        self._graph = build_graph(objects, kinds)
        plan = self._plan()
        if (plan.clusters, plan.cluster_classes) != (paused.clusters, paused.cluster_classes):
            await self._pause(source, plan)  # a Cluster or class appeared since discovery
        log.info("reread: %d objects after the pause", plan.size)
        self._done("reread", plan.size)
        return plan

    async def _with_kinds(self, access: ClusterAccess) -> list[KindInfo]:
        kinds = await discover_kinds(access.client)
        access.register(kinds)
        return kinds

    def _plan(self) -> MovePlan:
        plan = plan_move(
            self._graph, cluster=self.options.cluster, namespace=self.options.namespace
        )
        self.result.plan = plan
        log.info(
            "plan: %d objects in %d groups for %s",
            plan.size,
            len(plan.create_groups),
            ", ".join(str(c) for c in plan.clusters),
        )
        return plan

    async def _preflight(
        self, plan: MovePlan, target: ClusterAccess, provisioned: bool, phase: str = "preflight"
    ) -> None:
        """Check (again, after the reread, with ``phase`` "": no event) and note what the
        target already holds."""
        target_kinds = await discover_kinds(target.client)
        self._existing = await preflight.check(
            self._graph, plan, target, target_kinds, require_provisioned=provisioned
        )
        log.info(
            "preflight: passed; %d objects already in the target (earlier runs, shared)",
            len(self._existing),
        )
        if phase:
            self._done(phase, plan.size)

    async def _pause(self, source: ClusterAccess, plan: MovePlan) -> None:
        for ref in plan.clusters:
            await self._write(
                f"pause {ref}",
                functools.partial(source.merge_patch, ref, {"spec": {"paused": True}}),
            )
        for ref in plan.cluster_classes:
            await self._write(
                f"pause {ref}",
                functools.partial(
                    source.merge_patch, ref, {"metadata": {"annotations": {PAUSED_ANNOTATION: ""}}}
                ),
            )
        log.info(
            "pause: %d Cluster(s), %d ClusterClass(es)",
            len(plan.clusters),
            len(plan.cluster_classes),
        )
        self._done("pause", len(plan.clusters) + len(plan.cluster_classes))

    async def _wait_unblocked(self, source: ClusterAccess, plan: MovePlan) -> None:
        blocked = [
            i.ref for i in plan.objects() if _annotation(self._graph, i, BLOCK_MOVE_ANNOTATION)
        ]
        if self.options.dry_run or not blocked:
            return
        log.info("wait: %d object(s) carry %s", len(blocked), BLOCK_MOVE_ANNOTATION)
        deadline = asyncio.get_running_loop().time() + self.options.unblock_timeout
        for ref in blocked:
            while True:
                current = await source.get(ref)
                annotations = ((current or {}).get("metadata") or {}).get("annotations") or {}
                if BLOCK_MOVE_ANNOTATION not in annotations:
                    break
                if asyncio.get_running_loop().time() > deadline:
                    raise PivotError(
                        f"still carries {BLOCK_MOVE_ANNOTATION}", phase="wait", obj=str(ref)
                    )
                await asyncio.sleep(1.0)

    async def _create_all(self, target: ClusterAccess, plan: MovePlan) -> None:
        namespaces = sorted({i.ref.namespace for i in plan.objects() if i.ref.namespace})
        for name in namespaces:
            await self._write(
                f"ensure Namespace {name}", functools.partial(target.ensure_namespace, name)
            )
        for index, group in enumerate(plan.create_groups):
            await self._run_group("create", index, group, lambda i: self._create(target, i))
        log.info(
            "create: %d created, %d adopted from a previous run",
            self.result.created,
            self.result.adopted,
        )

    async def _delete_all(self, source: ClusterAccess, plan: MovePlan) -> None:
        for index, group in enumerate(plan.delete_groups):
            await self._run_group("delete", index, group, lambda i: self._delete(source, i))
        log.info("delete: %d objects deleted from the source", self.result.deleted)

    async def _resume(self, access: ClusterAccess, plan: MovePlan, phase: str = "resume") -> None:
        await self._unpause(access, plan.clusters, plan.cluster_classes)
        log.info("%s: %d Cluster(s) reconciling again", phase, len(plan.clusters))
        self._done(phase, len(plan.clusters))

    async def _finish_deleting(
        self, source: ClusterAccess, target: ClusterAccess, kinds: list[KindInfo]
    ) -> MoveResult:
        """No selected Cluster is left in the source: a previous run got into the delete
        phase. Delete what it left there, then resume the target."""
        moved = await self._moved_clusters(target, kinds)
        if not moved:
            what = f"Cluster {self.options.cluster or '*'}"
            raise PivotError(
                "not found in the source (nor moved to the target)", phase="discover", obj=what
            )
        log.info("discover: %s already moved; finishing", ", ".join(map(str, moved)))
        copies = await discovery.find_copies(target, kinds, {ref.namespace for ref in moved})
        for index, group in enumerate(plan_leftovers(self._graph, set(copies))):
            await self._run_group("delete", index, group, lambda i: self._delete(source, i))
        classes = tuple(
            ref_of(o)
            for o in copies.values()
            if (o.get("kind"), o.get("apiVersion", "").partition("/")[0])
            == ("ClusterClass", CAPI_GROUP)
        )
        await self._unpause(target, moved, tuple(sorted(classes)))
        self._done("resume", len(moved))
        self.result.resumed_only = True
        return self.result

    async def _moved_clusters(
        self, target: ClusterAccess, kinds: list[KindInfo]
    ) -> tuple[ObjectRef, ...]:
        """The selected Clusters a move created in the target."""
        cluster_kind = next((k for k in kinds if k.group_kind == (CAPI_GROUP, "Cluster")), None)
        if cluster_kind is None:
            return ()
        return tuple(
            ref_of(o)
            for o in await target.list(cluster_kind, self.options.namespace)
            if _matches(o, self.options)
            and SOURCE_UID_ANNOTATION in ((o["metadata"].get("annotations")) or {})
        )

    # -- writers (each honours dry_run through _write) -------------------------------------

    async def _create(self, target: ClusterAccess, item: PlannedObject) -> None:
        node = self._graph.nodes[item.uid]
        source_obj = copy.deepcopy(node.obj or {})
        if item.ref.group_kind == (CAPI_GROUP, "Cluster"):
            source_obj.setdefault("spec", {})["paused"] = True
        owners = [  # owners not moved (of a shared object) are left out of the copy
            (self._graph.nodes[uid].ref, self.result.uid_map[uid], link)
            for uid, link in node.owners.items()
            if uid in self.result.uid_map
        ]
        body = copy_for_target(source_obj, owners, item.uid)
        there = self._existing.get(item.ref)
        if there is not None and item.shared and not _copied_by(there, item):
            self.result.shared += 1  # the target has its own: never overwritten
            self.result.uid_map[item.uid] = str((there.get("metadata") or {}).get("uid"))
            return
        if there is None:
            made = await self._write(
                f"create {item.ref}", lambda: self._create_or_adopt(target, body, item)
            )
            there = made or {}
        else:
            self.result.adopted += 1
        self.result.uid_map[item.uid] = str(
            (there.get("metadata") or {}).get("uid") or f"dry-run:{item.uid}"
        )
        status = source_obj.get("status")
        info = target.kind_of(item.ref)
        if status and info is not None and info.has_status and _copied_by(there, item):
            await self._write(
                f"restore status of {item.ref}",
                lambda: target.merge_patch(item.ref, {"status": status}, status=True),
            )

    async def _create_or_adopt(
        self, target: ClusterAccess, body: Object, item: PlannedObject
    ) -> Object:
        try:
            made = await target.create(body)
        except KubeError as error:
            if error.status != 409:
                raise
            found = await target.get(item.ref)
            if found is not None and item.shared and not _copied_by(found, item):
                self.result.shared += 1
                return found
            if found is None or not _copied_by(found, item):
                raise PivotError(
                    "exists in the target and was not created by this move",
                    phase="create",
                    obj=str(item.ref),
                ) from None
            self.result.adopted += 1
            return found
        self.result.created += 1
        return made

    async def _delete(self, source: ClusterAccess, item: PlannedObject) -> None:
        release = {
            "metadata": {"annotations": {DELETE_FOR_MOVE_ANNOTATION: ""}, "finalizers": None}
        }

        async def remove() -> None:
            try:
                await source.merge_patch(item.ref, release)
            except KubeError as error:
                if error.status == 404:
                    return
                raise
            await source.delete(item.ref)
            await self._until_gone(source, item.ref, release)
            self.result.deleted += 1

        await self._write(f"delete {item.ref}", remove)

    async def _until_gone(
        self, source: ClusterAccess, ref: ObjectRef, release: dict[str, Any]
    ) -> None:
        """A controller that had not yet seen the pause may put its finalizer back between
        our patch and the delete (the real MachineDeployment controller does): strip the
        finalizers again until the object is gone, a bounded number of times."""
        for _ in range(_GONE_CHECKS):
            found = await source.get(ref)
            if found is None:
                return
            if found.get("metadata", {}).get("finalizers"):
                try:
                    await source.merge_patch(ref, release)
                except KubeError as error:
                    if error.status == 404:
                        return
                    raise
            await asyncio.sleep(_GONE_PAUSE)
        raise PivotError(
            f"{ref} is still in the source after its delete (finalizers came back)",
            phase="delete",
        )

    async def _save(self, path: Path, item: PlannedObject) -> None:
        obj = copy.deepcopy(self._graph.nodes[item.uid].obj or {})
        if item.ref.group_kind == (CAPI_GROUP, "Cluster"):
            obj.setdefault("spec", {})["paused"] = True
        obj.get("metadata", {}).pop("managedFields", None)
        await self._write(
            f"save {item.ref}", lambda: asyncio.to_thread(directory.save_object, path, obj)
        )
        self.result.saved += 1

    async def _unpause(
        self, access: ClusterAccess, clusters: tuple[ObjectRef, ...], classes: tuple[ObjectRef, ...]
    ) -> None:
        for ref in clusters:
            await self._write(
                f"resume {ref}",
                functools.partial(access.merge_patch, ref, {"spec": {"paused": None}}),
            )
        for ref in classes:
            await self._write(
                f"resume {ref}",
                functools.partial(
                    access.merge_patch,
                    ref,
                    {"metadata": {"annotations": {PAUSED_ANNOTATION: None}}},
                ),
            )

    # -- plumbing -------------------------------------------------------------------------

    async def _write(self, what: str, call: Callable[[], Awaitable[object]]) -> Object | None:
        """Every write goes through here: skipped (and logged) in a dry run, errors wrapped
        with the action and the object."""
        if self.options.dry_run:
            log.info("dry run: would %s", what)
            return None
        log.debug("%s", what)
        try:
            result = await call()
        except PivotError:
            raise
        except KubeError as error:
            phase, _, obj = what.partition(" ")
            raise PivotError(str(error), phase=phase, obj=obj) from error
        return result if isinstance(result, dict) else None

    async def _run_group(
        self,
        phase: str,
        index: int,
        group: tuple[PlannedObject, ...],
        step: Callable[[PlannedObject], Awaitable[None]],
    ) -> None:
        self.observe(PivotEvent(EventKind.GROUP_START, phase, index, len(group)))

        async def one(item: PlannedObject) -> None:
            async with self._limit:
                await step(item)
            self.observe(PivotEvent(EventKind.OBJECT_DONE, phase, index, len(group), item.ref))

        await asyncio.gather(*(one(item) for item in group))
        self.observe(PivotEvent(EventKind.GROUP_DONE, phase, index, len(group)))

    def _done(self, phase: str, total: int) -> None:
        self.observe(PivotEvent(EventKind.PHASE_DONE, phase, total=total))

    @staticmethod
    def _require(access: ClusterAccess | None, name: str) -> ClusterAccess:
        if access is None:
            raise PivotError(f"no {name} cluster given", phase="setup")
        return access


def _copied_by(there: Object, item: PlannedObject) -> bool:
    """Whether the target's object is this move's copy of ``item`` (or a dry run's stand-in)."""
    if not there:
        return True  # dry run: nothing was read or written
    annotations = (there.get("metadata") or {}).get("annotations") or {}
    return bool(annotations.get(SOURCE_UID_ANNOTATION) == item.uid)


def _annotation(graph: ObjectGraph, item: PlannedObject, key: str) -> bool:
    meta = (graph.nodes[item.uid].obj or {}).get("metadata") or {}
    return key in (meta.get("annotations") or {})


def _matches(obj: Object, options: MoveOptions) -> bool:
    meta = obj.get("metadata") or {}
    return (options.cluster is None or meta.get("name") == options.cluster) and (
        options.namespace is None or meta.get("namespace") == options.namespace
    )
