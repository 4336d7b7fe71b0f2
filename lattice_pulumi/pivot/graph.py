"""The object graph of a move: who owns whom, found from ownerReferences and conventions.

Only builds a model, never talks to a cluster (clusterctl's ``objectgraph.go`` has the same
shape). :func:`build_graph` adds every object, then completes the graph in named passes:

- hard owners: each ``metadata.ownerReferences`` entry; an owner not seen (yet) becomes a
  *virtual* node, filled in if the object turns up later, so discovery order never matters;
- :meth:`ObjectGraph.set_soft_ownership`: Secrets and ConfigMaps without owners named
  ``<cluster>-<anything>`` (kubeconfig, ca, etcd, sa, proxy, ...), objects without owners
  labelled ``cluster.x-k8s.io/cluster-name``, a Cluster's ClusterClass (``spec.topology``)
  and a ClusterResourceSetBinding's ``spec.clusterName``.

Each node also records, as clusterctl's does, whether it is *force-moved*
(``clusterctl.cluster.x-k8s.io/move`` on the object or its CRD: it moves by itself), a
*hierarchy root* (``/move-hierarchy`` on the object or its CRD, and every Cluster,
ClusterClass and ClusterResourceSet: it moves with everything it owns) and *global*
(cluster-scoped). Global objects and their hierarchies (e.g. CAPA's
``AWSClusterStaticIdentity`` and the credentials Secret it owns) may serve several
Clusters: a move copies them when the target lacks them and never deletes them.

Queries are small filters (:meth:`get_clusters`, :meth:`get_move_uids`,
:meth:`get_hierarchy_roots`, :meth:`get_global_roots`, :meth:`get_referenced_globals`) and
:meth:`find_problems` names every reference to an object outside the moved set and every
ownership cycle, so the planner can refuse the move with all of them at once.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

from lattice_pulumi.pivot.kinds import KindInfo
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
_CRS = ("addons.cluster.x-k8s.io", "ClusterResourceSet")
_NAMED_AFTER_CLUSTER = {("", "Secret"), ("", "ConfigMap")}
# Kinds clusterctl always moves with their hierarchy.
_HIERARCHY_KINDS = {_CLUSTER, _CLUSTER_CLASS, _CRS}


@dataclass
class Node:
    """One object (or, while ``virtual``, an owner only known from a reference)."""

    uid: str
    ref: ObjectRef
    obj: Object | None = None
    owners: dict[str, OwnerLink] = field(default_factory=dict)
    soft_owners: set[str] = field(default_factory=set)
    force_move: bool = False  # moves by itself (label ``.../move`` or ``.../move-hierarchy``)
    hierarchy_root: bool = False  # moves with all it owns (``.../move-hierarchy``, Cluster...)

    @property
    def virtual(self) -> bool:
        return self.obj is None

    @property
    def is_global(self) -> bool:
        """Cluster-scoped (an object seen without a namespace)."""
        return self.obj is not None and not self.ref.namespace

    @property
    def labels(self) -> Mapping[str, str]:
        return ((self.obj or {}).get("metadata") or {}).get("labels") or {}


class ObjectGraph:
    """Nodes by UID; built by :func:`build_graph`, then only queried."""

    def __init__(self, kinds: Iterable[KindInfo] = ()) -> None:
        self.nodes: dict[str, Node] = {}
        self._kinds = {info.group_kind: info for info in kinds}

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
        info = self._kinds.get(ref.group_kind)
        labels = node.labels
        node.hierarchy_root = (
            MOVE_HIERARCHY_LABEL in labels
            or ref.group_kind in _HIERARCHY_KINDS
            or (info is not None and info.move_hierarchy)
        )
        node.force_move = (
            node.hierarchy_root or MOVE_LABEL in labels or (info is not None and info.move)
        )
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

    def get_hierarchy_roots(self, namespaces: Iterable[str] | None = None) -> list[Node]:
        """Namespaced objects that move with their hierarchy whichever Cluster owns what
        (``.../move-hierarchy`` on them or their CRD, ClusterClasses, ClusterResourceSets),
        in ``namespaces`` (all when None); Clusters are chosen by the planner, not here."""
        return self._forced(namespaces, hierarchy=True)

    def get_force_moved_only(self, namespaces: Iterable[str] | None = None) -> list[Node]:
        """Namespaced objects that move by themselves, without what they own
        (``clusterctl.cluster.x-k8s.io/move`` on them or their CRD)."""
        return self._forced(namespaces, hierarchy=False)

    def _forced(self, namespaces: Iterable[str] | None, *, hierarchy: bool) -> list[Node]:
        wanted = None if namespaces is None else set(namespaces)
        return sorted(
            (
                n
                for n in self._observed()
                if n.force_move
                and n.hierarchy_root is hierarchy
                and not n.is_global
                and n.ref.group_kind != _CLUSTER
                and (wanted is None or n.ref.namespace in wanted)
            ),
            key=lambda n: n.ref.sort_key,
        )

    def get_global_roots(self) -> list[Node]:
        """Cluster-scoped objects labelled (or of a kind labelled) to move, e.g. CAPA's
        identities: every one of them goes with a move of whole namespaces (clusterctl)."""
        return sorted(
            (n for n in self._observed() if n.is_global and n.force_move),
            key=lambda n: n.ref.sort_key,
        )

    def get_referenced_globals(self, uids: Iterable[str]) -> list[Node]:
        """Cluster-scoped objects the given objects name in an ``identityRef`` (or
        ``sourceIdentityRef``, ...), followed through the globals' own references: what a
        Cluster needs to authenticate in the target (AWSCluster -> AWSClusterRoleIdentity
        -> AWSClusterStaticIdentity)."""
        by_name: dict[str, list[Node]] = {}
        for node in self._observed():
            if node.is_global:
                by_name.setdefault(node.ref.name, []).append(node)
        found: dict[str, Node] = {}
        pending = [self.nodes[uid] for uid in uids]
        while pending:
            node = pending.pop()
            for reference in _identity_refs((node.obj or {}).get("spec")):
                for target in _resolve_global(node, reference, by_name):
                    if target.uid not in found:
                        found[target.uid] = target
                        pending.append(target)
        return sorted(found.values(), key=lambda n: n.ref.sort_key)

    def _observed(self) -> Iterator[Node]:
        return (n for n in self.nodes.values() if not n.virtual)

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

    def find_problems(self, move: set[str], shared: Iterable[str] = ()) -> list[str]:
        """Every reason the moved set cannot be recreated faithfully, each naming objects.

        Objects in ``shared`` (global hierarchies, copied only when absent) may have owners
        that stay behind: the copy keeps only its references to moved owners."""
        problems: list[str] = []
        copied_only = set(shared)
        for uid in sorted(move, key=lambda u: self.nodes[u].ref.sort_key):
            node = self.nodes[uid]
            if uid in copied_only:
                continue
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


def _identity_refs(value: Any) -> Iterator[Mapping[str, Any]]:
    """Every mapping under a key ending in ``identityRef`` (any case) inside ``value``."""
    if isinstance(value, Mapping):
        for key, item in value.items():
            if str(key).lower().endswith("identityref") and isinstance(item, Mapping):
                if item.get("name"):
                    yield item
            else:
                yield from _identity_refs(item)
    elif isinstance(value, list):
        for item in value:
            yield from _identity_refs(item)


def _resolve_global(
    node: Node, reference: Mapping[str, Any], by_name: Mapping[str, list[Node]]
) -> list[Node]:
    """The globals ``reference`` names: by kind and name; without a kind (CAPO's
    ``type: ClusterIdentity``), an ``*Identity`` kind of the referring object's API group."""
    if reference.get("namespace"):
        return []  # a namespaced object (e.g. a Secret): not a global
    candidates = by_name.get(str(reference["name"]), [])
    kind = reference.get("kind")
    if kind:
        return [n for n in candidates if n.ref.kind == kind]
    return [
        n for n in candidates if n.ref.group == node.ref.group and n.ref.kind.endswith("Identity")
    ]


def build_graph(
    objects: Iterable[Mapping[str, Any]], kinds: Iterable[KindInfo] = ()
) -> ObjectGraph:
    """The complete graph of ``objects``: owners, virtual owners, then soft ownership.
    ``kinds`` (as discovered) carry the CRD-level move labels."""
    graph = ObjectGraph(kinds)
    for obj in objects:
        graph.add_object(obj)
    graph.set_soft_ownership()
    return graph
