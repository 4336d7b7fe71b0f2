"""The in-cluster operator: keeps a cluster's Lattice objects converged after Pulumi hands off.

Layers, top to bottom: ``runner`` (``lattice operator run``: probes and metrics server,
Lease, kopf) > ``handlers`` (thin kopf handlers) > ``runtime`` (the ``Operator`` object) >
``reconcile`` (compile, apply, prune, report one LatticeService), ``validation`` (status of
CedarPolicy, SecretProvider, CloudProvider), ``queue`` (dependents to converge again) >
``state`` (every object seen, dependency indexes), ``ownership`` (owner references,
inventory), ``status``, ``specs`` (models from bodies), ``leader``, ``metrics``, ``errors``.
Manifests come from the shared compiler; objects go through ``lattice_pulumi.kube``.
This package never imports pulumi.
"""

from lattice_pulumi.operator.errors import NotYet
from lattice_pulumi.operator.reconcile import FIELD_MANAGER, Outcome, ServiceReconciler
from lattice_pulumi.operator.runtime import Operator
from lattice_pulumi.operator.state import ClusterState

__all__ = ["FIELD_MANAGER", "ClusterState", "NotYet", "Operator", "Outcome", "ServiceReconciler"]
