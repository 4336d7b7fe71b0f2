"""The pure planner: from an object graph to ordered create groups and reverse delete groups.

:func:`plan_move` picks the Clusters to move (all, one namespace, or one by name) and takes
them, the ClusterClasses they use and everything they own (hard or soft). When no Cluster
stays behind in a namespace (a move of whole namespaces, or of the last Cluster of one), it
also takes, as clusterctl does, every object there that moves on its own: labelled (or of a
CRD labelled) ``clusterctl.cluster.x-k8s.io/move-hierarchy`` with what it owns, or ``/move``
by itself, and every ClusterClass and ClusterResourceSet with what they own.

Global objects (cluster-scoped, e.g. CAPA's ``AWSClusterStaticIdentity``) and what they own
(the credentials Secret in the provider's namespace) are *shared*: copied into the target
unless it has them already (never overwritten), and never deleted from the source, where
other Clusters may use them. A move of whole namespaces takes every labelled global, as
clusterctl does; a move of named Clusters only those their objects reference
(``identityRef``, followed through ``sourceIdentityRef``), so it never copies another
cluster's credentials.

It refuses with one :class:`~lattice_pulumi.errors.PivotError` listing every problem the
graph reports, and groups the rest so every object comes after all its owners (clusterctl's
move sequence). Objects of one group do not depend on each other and may be written in
parallel. Deletion runs the groups backwards; a ClusterClass still used by a Cluster that
stays (and what it owns) is copied but never deleted. No I/O.

:func:`plan_leftovers` serves a rerun that finds the moved Clusters gone from the source (a
previous run died in the delete phase): the objects still in the source that the target
holds copies of (a ClusterClass, in the last delete group, say), in delete order.
"""

from __future__ import annotations

from dataclasses import dataclass

from lattice_pulumi.errors import PivotError
from lattice_pulumi.pivot.graph import Node, ObjectGraph
from lattice_pulumi.pivot.objects import ObjectRef

__all__ = ["MovePlan", "PlannedObject", "plan_leftovers", "plan_move", "select_clusters"]


@dataclass(frozen=True)
class PlannedObject:
    """One object of the plan: its source UID, identity, whether the source copy goes, and
    whether it is shared (a global hierarchy: created only when absent, never deleted)."""

    uid: str
    ref: ObjectRef
    delete: bool = True
    shared: bool = False


@dataclass(frozen=True)
class MovePlan:
    """Create groups in order (owners first); ``delete_groups`` is the reverse."""

    clusters: tuple[ObjectRef, ...]
    cluster_classes: tuple[ObjectRef, ...]
    create_groups: tuple[tuple[PlannedObject, ...], ...]

    @property
    def delete_groups(self) -> tuple[tuple[PlannedObject, ...], ...]:
        """The create groups backwards, keeping only objects to delete (empty groups too,
        so group numbers match)."""
        return tuple(
            tuple(item for item in group if item.delete) for group in reversed(self.create_groups)
        )

    @property
    def size(self) -> int:
        return sum(len(group) for group in self.create_groups)

    def objects(self) -> list[PlannedObject]:
        """Every planned object, in creation order."""
        return [item for group in self.create_groups for item in group]


def select_clusters(
    graph: ObjectGraph, cluster: str | None = None, namespace: str | None = None
) -> list[Node]:
    """The Clusters a move takes: by name and/or namespace, all of them without either."""
    return [
        node
        for node in graph.get_clusters()
        if (cluster is None or node.ref.name == cluster)
        and (namespace is None or node.ref.namespace == namespace)
    ]


def plan_move(
    graph: ObjectGraph, *, cluster: str | None = None, namespace: str | None = None
) -> MovePlan:
    """Plan moving the selected Clusters; raises :class:`PivotError` (phase ``plan``)."""
    clusters = select_clusters(graph, cluster, namespace)
    if not clusters:
        what = f"Cluster {namespace + '/' if namespace else ''}{cluster or '*'}"
        raise PivotError(f"{what} not found", phase="plan", obj=what)
    selected = {node.uid for node in clusters}
    staying = [node.uid for node in graph.get_clusters() if node.uid not in selected]
    classes = graph.get_cluster_classes_of(clusters)
    emptied: set[str] | None = (
        _emptied_namespaces(graph, clusters, staying)
        if cluster is not None
        else (None if namespace is None else {namespace})
    )
    owned = graph.get_move_uids(
        [*clusters, *classes, *graph.get_hierarchy_roots(emptied)], stop=staying
    )
    owned |= {node.uid for node in graph.get_force_moved_only(emptied)}
    global_roots = graph.get_referenced_globals(owned)
    if cluster is None:
        global_roots = [*global_roots, *graph.get_global_roots()]
    shared = graph.get_move_uids(global_roots, stop=staying)
    move = owned | shared
    problems = graph.find_problems(move, shared)
    if problems:
        raise PivotError(f"{len(problems)} problem(s):\n  " + "\n  ".join(problems), phase="plan")
    keep = _shared_class_hierarchy(graph, classes, staying, selected) | shared
    groups = _owner_first_groups(graph, move)
    return MovePlan(
        clusters=tuple(node.ref for node in clusters),
        cluster_classes=tuple(
            graph.nodes[uid].ref
            for uid in sorted(owned, key=lambda u: graph.nodes[u].ref.sort_key)
            if graph.nodes[uid].ref.group_kind == ("cluster.x-k8s.io", "ClusterClass")
        ),
        create_groups=tuple(
            tuple(
                PlannedObject(uid, graph.nodes[uid].ref, uid not in keep, uid in shared)
                for uid in group
            )
            for group in groups
        ),
    )


def plan_leftovers(graph: ObjectGraph, copied: set[str]) -> tuple[tuple[PlannedObject, ...], ...]:
    """Delete groups (dependents first) of the source objects in ``copied`` (source UIDs
    of the target's copies), except shared ones: global hierarchies and ClusterClasses a
    Cluster left in the source still uses, with what they own."""
    clusters = graph.get_clusters()
    staying = [node.uid for node in clusters]
    globals_ = [node for node in graph.nodes.values() if node.is_global]
    shared = graph.get_move_uids(globals_, stop=staying)
    used = graph.get_cluster_classes_of(clusters)
    shared |= graph.get_move_uids(used, stop=staying)
    left = {
        uid
        for uid in copied
        if uid in graph.nodes and not graph.nodes[uid].virtual and uid not in shared
    }
    if not left:
        return ()
    groups = _owner_first_groups(graph, left)
    return tuple(
        tuple(PlannedObject(uid, graph.nodes[uid].ref) for uid in group)
        for group in reversed(groups)
    )


def _emptied_namespaces(graph: ObjectGraph, clusters: list[Node], staying: list[str]) -> set[str]:
    """Namespaces of the moved Clusters where no Cluster stays behind."""
    kept = {graph.nodes[uid].ref.namespace for uid in staying}
    return {node.ref.namespace for node in clusters} - kept


def _owner_first_groups(graph: ObjectGraph, move: set[str]) -> list[list[str]]:
    placed: set[str] = set()
    groups: list[list[str]] = []
    remaining = sorted(move, key=lambda uid: graph.nodes[uid].ref.sort_key)
    while remaining:
        group = [
            uid
            for uid in remaining
            if ({*graph.nodes[uid].owners, *graph.nodes[uid].soft_owners} & move) <= placed
        ]
        if not group:  # find_problems reports cycles first; this is a guard
            names = ", ".join(str(graph.nodes[uid].ref) for uid in remaining)
            raise PivotError(f"no owner-first order for {names}", phase="plan")
        groups.append(group)
        placed.update(group)
        remaining = [uid for uid in remaining if uid not in placed]
    return groups


def _shared_class_hierarchy(
    graph: ObjectGraph, classes: list[Node], staying: list[str], selected: set[str]
) -> set[str]:
    """ClusterClasses a staying Cluster still uses, and what they own: copy, never delete."""
    staying_set = set(staying)
    still_used = [
        node
        for node in classes
        if any(node.uid in graph.nodes[uid].soft_owners for uid in staying_set)
    ]
    return graph.get_move_uids(still_used, stop=[*staying_set, *selected])
