"""Pulumi components: Lattice specs as ComponentResources, one child resource per object.

``LatticeService`` compiles one service (``compile.service``) and registers every object
it needs; ``mesh_report`` tells which mesh declarations of the program's services are
one-sided. ``LatticeCluster`` compiles one cluster (``compile.cluster``), registers its
Cluster API objects on the parent cluster, and installs the Lattice CRDs into the new
cluster; it is a ``ClusterTarget`` services deploy into. ``Pivot`` (a dynamic resource)
moves a cluster's Cluster API objects into it after provisioning and back on destroy.
Modules: ``service`` and ``lattice_cluster`` (the components), ``specs`` (what ``spec=``
accepts), ``inputs`` (Pulumi Inputs through the pure compiler), ``resources`` (manifest to
resource), ``providers`` (provider inheritance and the no-ambient-kubeconfig rule),
``registry`` (services per program run), ``cluster`` (what a service needs from its
cluster).
"""

from lattice_pulumi.components.cluster import ClusterTarget
from lattice_pulumi.components.lattice_cluster import TYPE_TOKEN as CLUSTER_TYPE_TOKEN
from lattice_pulumi.components.lattice_cluster import LatticeCluster
from lattice_pulumi.components.pivot import Pivot
from lattice_pulumi.components.providers import ProviderRequired
from lattice_pulumi.components.registry import ServiceRegistry, current_registry, mesh_report
from lattice_pulumi.components.service import TYPE_TOKEN, LatticeService
from lattice_pulumi.components.specs import SpecInput

__all__ = [
    "CLUSTER_TYPE_TOKEN",
    "TYPE_TOKEN",
    "ClusterTarget",
    "LatticeCluster",
    "LatticeService",
    "Pivot",
    "ProviderRequired",
    "ServiceRegistry",
    "SpecInput",
    "current_registry",
    "mesh_report",
]
