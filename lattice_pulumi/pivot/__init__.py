"""Move Cluster API objects between clusters: graph, plan, act (clusterctl-move semantics).

- :mod:`~lattice_pulumi.pivot.graph` builds the ownership model (hard, soft, virtual owners);
- :mod:`~lattice_pulumi.pivot.plan` turns it into owner-first groups (pure);
- :mod:`~lattice_pulumi.pivot.mover` runs the phases against two clusters or a directory,
  crash-safe and resumable (see its docstring for the mechanism);
  :mod:`~lattice_pulumi.pivot.discovery` says what it lists where (provider namespaces'
  Secrets included, for global identities).

Kubernetes access goes through lightkube (:mod:`lattice_pulumi.kube`); no pulumi import.
"""

from __future__ import annotations

from lattice_pulumi.pivot.access import ClusterAccess
from lattice_pulumi.pivot.events import EventKind, PivotEvent
from lattice_pulumi.pivot.graph import Node, ObjectGraph, build_graph
from lattice_pulumi.pivot.mover import MoveOptions, Mover, MoveResult
from lattice_pulumi.pivot.objects import SOURCE_UID_ANNOTATION, ObjectRef
from lattice_pulumi.pivot.plan import MovePlan, PlannedObject, plan_move

__all__ = [
    "SOURCE_UID_ANNOTATION",
    "ClusterAccess",
    "EventKind",
    "MoveOptions",
    "MovePlan",
    "MoveResult",
    "Mover",
    "Node",
    "ObjectGraph",
    "ObjectRef",
    "PivotEvent",
    "PlannedObject",
    "build_graph",
    "plan_move",
]
