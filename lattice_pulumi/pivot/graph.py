"""The object graph of a move: who owns whom, found from ownerReferences and conventions.

Only builds a model, never talks to a cluster (clusterctl's ``objectgraph.go`` has the same
shape). :func:`build_graph` adds every object, then completes the graph in named passes:

- hard owners: each ``metadata.ownerReferences`` entry; an owner not seen (yet) becomes a
  *virtual* node, filled in if the object turns up later, so discovery order never matters;
- :meth:`ObjectGraph.set_soft_ownership`: Secrets and ConfigMaps without owners named
  ``<cluster>-<anything>`` (kubeconfig, ca, etcd, sa, proxy, ...), objects without owners
  labelled ``cluster.x-k8s.io/cluster-name``, a Cluster's ClusterClass (``spec.topology``)
  and a ClusterResourceSetBinding's ``spec.clusterName``.

Queries are small filters (:meth:`get_clusters`, :meth:`get_move_uids`) and
:meth:`find_problems` names every reference to an object outside the moved set and every
ownership cycle, so the planner can refuse the move with all of them at once.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from lattice_pulumi.pivot.objects import (
    CAPI_GROUP,
    CLUSTER_NAME_LABEL,
    MOVE_HIERARCHY_LABEL,
    MOVE_LABEL,
    Object,
    ObjectRef,
    OwnerLink,
    ref_of,
)

__all__ = ["Node", "ObjectGraph", "build_graph"]

_CLUSTER = (CAPI_GROUP, "Cluster")
_CLUSTER_CLASS = (CAPI_GROUP, "ClusterClass")
_CRS_BINDING = ("addons.cluster.x-k8s.io", "ClusterResourceSetBinding")
_NAMED_AFTER_CLUSTER = {("", "Secret"), ("", "ConfigMap")}


@dataclass
class Node:
    """One object (or, while ``virtual``, an owner only known from a reference)."""

    uid: str
    ref: ObjectRef
    obj: Object | None = None
    owners: dict[str, OwnerLink] = field(default_factory=dict)
    soft_owners: set[str] = field(default_factory=set)

    @property
    def virtual(self) -> bool:
        return self.obj is None


class ObjectGraph:
    """Nodes by UID; built by :func:`build_graph`, then only queried."""

    def __init__(self) -> None:
        self.nodes: dict[str, Node] = {}

    # -- building -------------------------------------------------------------------------

    def add_object(self, obj: Mapping[str, Any]) -> Node:
        """Add one object read from a cluster or a backup; its owners become (virtual) nodes."""
        meta = obj.get("metadata") or {}
        uid = str(meta.get("uid", ""))
        ref = ref_of(obj)
        node = self.nodes.get(uid)
        if node is None:
            node = self.nodes[uid] = Node(uid, ref)
        node.ref, node.obj = ref, dict(obj)
        for owner in meta.get("ownerReferences") or ():
            owner_uid = str(owner.get("uid", ""))
            if owner_uid not in self.nodes:
                owner_ref = ObjectRef(
                    str(owner.get("apiVersion", "")),
                    str(owner.get("kind", "")),
                    ref.namespace,
                    str(owner.get("name", "")),
                )
                self.nodes[owner_uid] = Node(owner_uid, owner_ref)
            node.owners[owner_uid] = OwnerLink(
                owner.get("controller"), owner.get("blockOwnerDeletion")
            )
        return node

    def set_soft_ownership(self) -> None:
        """Link objects to the Clusters (and ClusterClasses) they belong to by convention."""
        clusters = {(n.ref.namespace, n.ref.name): n.uid for n in self.get_clusters()}
        classes = {
            (n.ref.namespace, n.ref.name): n.uid
            for n in self.nodes.values()
            if n.ref.group_kind == _CLUSTER_CLASS and not n.virtual
        }
        for node in self.nodes.values():
            if node.virtual:
                continue
            owner = _soft_owner(node, clusters, classes)
            if owner is not None and owner != node.uid:
                node.soft_owners.add(owner)

    # -- queries --------------------------------------------------------------------------

    def get_clusters(self) -> list[Node]:
        """Every Cluster seen (not virtual), sorted by identity."""
        return sorted(
            (n for n in self.nodes.values() if n.ref.group_kind == _CLUSTER and not n.virtual),
            key=lambda n: n.ref.sort_key,
        )

    def get_force_moved(self, namespace: str | None = None) -> list[Node]:
        """Objects labelled to move on their own (``.../move``, ``.../move-hierarchy``) and,
        as clusterctl does, every ClusterClass: roots of a move of a whole namespace."""
        found = []
        for node in self.nodes.values():
            if node.virtual or (namespace is not None and node.ref.namespace != namespace):
                continue
            labels = ((node.obj or {}).get("metadata") or {}).get("labels") or {}
            if (
                MOVE_LABEL in labels
                or MOVE_HIERARCHY_LABEL in labels
                or node.ref.group_kind == _CLUSTER_CLASS
            ):
                found.append(node)
        return sorted(found, key=lambda n: n.ref.sort_key)

    def get_cluster_classes_of(self, clusters: Iterable[Node]) -> list[Node]:
        """The ClusterClasses the given Clusters use (their soft owners of that kind)."""
        found = {
            uid
            for cluster in clusters
            for uid in cluster.soft_owners
            if self.nodes[uid].ref.group_kind == _CLUSTER_CLASS
        }
        return sorted((self.nodes[uid] for uid in found), key=lambda n: n.ref.sort_key)

    def dependents(self) -> dict[str, set[str]]:
        """Owner UID -> UIDs of the objects it owns, hard or soft."""
        out: dict[str, set[str]] = {uid: set() for uid in self.nodes}
        for node in self.nodes.values():
            for owner in (*node.owners, *node.soft_owners):
                out.setdefault(owner, set()).add(node.uid)
        return out

    def get_move_uids(self, roots: Iterable[Node], stop: Iterable[str] = ()) -> set[str]:
        """The roots and everything reachable from them through ownership (tenants),
        never entering the UIDs in ``stop`` (Clusters that are not moved)."""
        children = self.dependents()
        seen: set[str] = set(stop)
        blocked = set(seen)
        stack = [root.uid for root in roots]
        while stack:
            uid = stack.pop()
            if uid in seen:
                continue
            seen.add(uid)
            stack.extend(children.get(uid, ()))
        return seen - blocked

    def find_problems(self, move: set[str]) -> list[str]:
        """Every reason the moved set cannot be recreated faithfully, each naming objects."""
        problems: list[str] = []
        for uid in sorted(move, key=lambda u: self.nodes[u].ref.sort_key):
            node = self.nodes[uid]
            for owner_uid in sorted(node.owners, key=lambda u: self.nodes[u].ref.sort_key):
                owner = self.nodes[owner_uid]
                if owner.virtual:
                    problems.append(
                        f"{node.ref}: owner {owner.ref} (uid {owner_uid}) is not among the "
                        "discovered objects"
                    )
                elif owner_uid not in move:
                    problems.append(f"{node.ref}: owner {owner.ref} is outside the moved set")
        problems.extend(self._cycles(move))
        return problems

    def _cycles(self, move: set[str]) -> list[str]:
        """Ownership cycles inside ``move`` (hard and soft edges), each once."""
        state: dict[str, int] = {}  # 1: on the current path, 2: done
        cycles: list[str] = []
        for start in sorted(move, key=lambda u: self.nodes[u].ref.sort_key):
            if start in state:
                continue
            path: list[str] = []
            stack: list[tuple[str, list[str]]] = [(start, self._owners_in(start, move))]
            state[start] = 1
            path.append(start)
            while stack:
                uid, pending = stack[-1]
                if not pending:
                    stack.pop()
                    path.pop()
                    state[uid] = 2
                    continue
                nxt = pending.pop()
                if state.get(nxt) == 1:
                    loop = [*path[path.index(nxt) :], nxt]
                    cycles.append(
                        "ownership cycle: " + " -> ".join(str(self.nodes[u].ref) for u in loop)
                    )
                elif nxt not in state:
                    state[nxt] = 1
                    path.append(nxt)
                    stack.append((nxt, self._owners_in(nxt, move)))
        return cycles

    def _owners_in(self, uid: str, move: set[str]) -> list[str]:
        node = self.nodes[uid]
        owners = {*node.owners, *node.soft_owners} & move
        return sorted(owners, key=lambda u: self.nodes[u].ref.sort_key, reverse=True)


def _soft_owner(
    node: Node,
    clusters: Mapping[tuple[str, str], str],
    classes: Mapping[tuple[str, str], str],
) -> str | None:
    """The UID of the object ``node`` belongs to by convention, if any."""
    obj = node.obj or {}
    ns = node.ref.namespace
    if node.ref.group_kind == _CLUSTER:
        topology = (obj.get("spec") or {}).get("topology") or {}
        class_ref = topology.get("classRef") or {}
        name = class_ref.get("name") or topology.get("class")
        class_ns = class_ref.get("namespace") or topology.get("classNamespace") or ns
        return classes.get((class_ns, name)) if name else None
    if node.ref.group_kind == _CRS_BINDING:
        name = (obj.get("spec") or {}).get("clusterName")
        return clusters.get((ns, name)) if name else None
    if node.owners:
        return None
    labels = (obj.get("metadata") or {}).get("labels") or {}
    if labels.get(CLUSTER_NAME_LABEL):
        return clusters.get((ns, labels[CLUSTER_NAME_LABEL]))
    if node.ref.group_kind in _NAMED_AFTER_CLUSTER:
        named = [c for (c_ns, c), _ in clusters.items() if c_ns == ns]
        matches = [c for c in named if node.ref.name.startswith(f"{c}-")]
        if matches:
            return clusters[(ns, max(matches, key=len))]
    return None


def build_graph(objects: Iterable[Mapping[str, Any]]) -> ObjectGraph:
    """The complete graph of ``objects``: owners, virtual owners, then soft ownership."""
    graph = ObjectGraph()
    for obj in objects:
        graph.add_object(obj)
    graph.set_soft_ownership()
    return graph
