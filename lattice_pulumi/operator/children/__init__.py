"""Parent-provisioned children: the parent's operator builds a child from its LatticeCluster.

Layers, top to bottom: ``reconcile`` (``ChildReconciler``: the phase sequence) >
``access`` (parent reads and writes), ``addons`` (add-on health), ``status`` (phases and
conditions), ``objects`` (stamping, the token and kubeconfig Secrets) > ``link`` (what the
operator needs of its cell; ``lattice_pulumi.cell.link.FleetLink`` provides it).
"""

from lattice_pulumi.operator.children.link import CellLink, ChildReport, ReportedCondition
from lattice_pulumi.operator.children.reconcile import ChildReconciler, ChildrenSettings
from lattice_pulumi.operator.children.status import ChildPhase, PhaseReport

__all__ = [
    "CellLink",
    "ChildPhase",
    "ChildReconciler",
    "ChildReport",
    "ChildrenSettings",
    "PhaseReport",
    "ReportedCondition",
]
