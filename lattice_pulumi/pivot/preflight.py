"""Collect-all checks before a move writes anything: every blocker is named at once.

- each moved Cluster has its infrastructure provisioned (``status.initialization.
  infrastructureProvisioned`` in v1beta2, ``status.infrastructureReady`` in v1beta1);
- each moved Machine has a ``status.nodeRef`` (its node is up);
- the target serves every kind in the plan;
- no object of the plan exists in the target unless a previous run of this move created it
  (its ``pivot.lattice.dev/source-uid`` annotation holds the source UID): those are adopted;
  shared objects (global hierarchies) may exist already: the target's own are kept as they are.

:func:`check` returns the target objects found, by identity, so creation can adopt them
without a second read.
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from typing import Any

from lattice_pulumi.errors import PivotError
from lattice_pulumi.pivot.access import ClusterAccess
from lattice_pulumi.pivot.graph import ObjectGraph
from lattice_pulumi.pivot.kinds import KindInfo
from lattice_pulumi.pivot.objects import CAPI_GROUP, SOURCE_UID_ANNOTATION, Object, ObjectRef
from lattice_pulumi.pivot.plan import MovePlan

__all__ = ["check", "provisioning_problems"]


def _cluster_provisioned(obj: Mapping[str, Any]) -> bool:
    status = obj.get("status") or {}
    initialization = status.get("initialization") or {}
    return bool(
        initialization.get("infrastructureProvisioned") or status.get("infrastructureReady")
    )


def provisioning_problems(graph: ObjectGraph, plan: MovePlan) -> list[str]:
    """Clusters still provisioning infrastructure and Machines without a node."""
    problems: list[str] = []
    for item in plan.objects():
        obj = graph.nodes[item.uid].obj or {}
        if item.ref.group_kind == (CAPI_GROUP, "Cluster") and not _cluster_provisioned(obj):
            problems.append(f"{item.ref}: still provisioning its infrastructure")
        if item.ref.group_kind == (CAPI_GROUP, "Machine") and not (
            (obj.get("status") or {}).get("nodeRef")
        ):
            problems.append(f"{item.ref}: still provisioning its node (no status.nodeRef)")
    return problems


async def _target_objects(
    target: ClusterAccess, plan: MovePlan, served: Mapping[tuple[str, str], KindInfo]
) -> dict[ObjectRef, Object]:
    """The target's objects of the planned kinds, in the planned namespaces."""
    wanted = sorted({(i.ref.api_version, i.ref.kind, i.ref.namespace) for i in plan.objects()})
    calls = [
        target.list(served[(api_version, kind)], namespace or None)
        for api_version, kind, namespace in wanted
        if (api_version, kind) in served
    ]
    found: dict[ObjectRef, Object] = {}
    for objects in await asyncio.gather(*calls):
        for obj in objects:
            meta = obj.get("metadata") or {}
            found[
                ObjectRef(
                    obj["apiVersion"],
                    obj["kind"],
                    meta.get("namespace") or "",
                    meta.get("name", ""),
                )
            ] = obj
    return found


async def check(
    graph: ObjectGraph,
    plan: MovePlan,
    target: ClusterAccess,
    target_kinds: list[KindInfo],
    *,
    require_provisioned: bool = True,
) -> dict[ObjectRef, Object]:
    """Raise one PivotError (phase ``preflight``) listing every blocker; else the target's
    existing objects of the plan."""
    problems = provisioning_problems(graph, plan) if require_provisioned else []
    served = {(k.api_version, k.kind): k for k in target_kinds}
    missing = sorted({(i.ref.api_version, i.ref.kind) for i in plan.objects()} - set(served))
    problems += [f"target does not serve {api} {kind}" for api, kind in missing]
    existing = await _target_objects(target, plan, served)
    for item in plan.objects():
        there = existing.get(item.ref)
        if there is None:
            continue
        annotations = (there.get("metadata") or {}).get("annotations") or {}
        if annotations.get(SOURCE_UID_ANNOTATION) != item.uid and not item.shared:
            problems.append(f"{item.ref}: already exists in the target (not from this move)")
    if problems:
        raise PivotError(
            f"{len(problems)} problem(s):\n  " + "\n  ".join(problems), phase="preflight"
        )
    return existing
