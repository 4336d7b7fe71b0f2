"""The pure planner: from an object graph to ordered create groups and reverse delete groups.

:func:`plan_move` picks the Clusters to move (all, one namespace, or one by name), takes
them, the ClusterClasses they use and everything they own (hard or soft); without a Cluster
name also, as clusterctl does, every ClusterClass and every object labelled
``clusterctl.cluster.x-k8s.io/move`` or ``/move-hierarchy``, with what it owns. It refuses with one
:class:`~lattice_pulumi.errors.PivotError` listing every problem the graph reports, and
groups the rest so every object comes after all its owners (clusterctl's move sequence).
Objects of one group do not depend on each other and may be written in parallel. Deletion
runs the groups backwards; a ClusterClass still used by a Cluster that stays (and what it
owns) is copied but never deleted. No I/O.
"""

from __future__ import annotations

from dataclasses import dataclass

from lattice_pulumi.errors import PivotError
from lattice_pulumi.pivot.graph import Node, ObjectGraph
from lattice_pulumi.pivot.objects import ObjectRef

__all__ = ["MovePlan", "PlannedObject", "plan_move", "select_clusters"]


@dataclass(frozen=True)
class PlannedObject:
    """One object of the plan: its source UID, identity and whether the source copy goes."""

    uid: str
    ref: ObjectRef
    delete: bool = True


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
    forced = [] if cluster is not None else graph.get_force_moved(namespace)
    move = graph.get_move_uids([*clusters, *classes, *forced], stop=staying)
    problems = graph.find_problems(move)
    if problems:
        raise PivotError(f"{len(problems)} problem(s):\n  " + "\n  ".join(problems), phase="plan")
    keep = _shared_class_hierarchy(graph, classes, staying, selected)
    groups = _owner_first_groups(graph, move)
    return MovePlan(
        clusters=tuple(node.ref for node in clusters),
        cluster_classes=tuple(
            graph.nodes[uid].ref
            for uid in sorted(move, key=lambda u: graph.nodes[u].ref.sort_key)
            if graph.nodes[uid].ref.group_kind == ("cluster.x-k8s.io", "ClusterClass")
        ),
        create_groups=tuple(
            tuple(PlannedObject(uid, graph.nodes[uid].ref, uid not in keep) for uid in group)
            for group in groups
        ),
    )


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
    shared = [
        node
        for node in classes
        if any(node.uid in graph.nodes[uid].soft_owners for uid in staying_set)
    ]
    return graph.get_move_uids(shared, stop=[*staying_set, *selected])
