"""Bilateral service mesh: default-deny Cilium and Istio policies from both sides' declarations.

Traffic from A to B flows only when A declares B outbound and B declares A inbound (or any
caller); each side's objects enforce its own half (``rule``). Modules:

* ``rule``: who may call whom, from declarations (pure, no Kubernetes).
* ``view``: what a compile may see besides its spec; identities and ports.
* ``cilium`` / ``istio``: builders of each layer's objects for one service.
* ``policies``: ``compile_service_mesh`` and ``compile_external_mesh``, one spec at a time.
* ``baseline``: ``compile_mesh_baseline``, the cluster-wide default deny.
* ``graph`` / ``report`` / ``render``: the whole graph, incremental updates, one-sided
  declarations and the allowed/denied matrix as table, dot or mermaid.

The data plane defaults to Istio ambient mode (ztunnel, HBONE on 15008); sidecar mode is
``MeshMode.SIDECAR``.
"""

from lattice_pulumi.compile.mesh.baseline import compile_mesh_baseline
from lattice_pulumi.compile.mesh.policies import compile_external_mesh, compile_service_mesh
from lattice_pulumi.compile.mesh.view import MeshMode, MeshView

__all__ = [
    "MeshMode",
    "MeshView",
    "compile_external_mesh",
    "compile_mesh_baseline",
    "compile_service_mesh",
]
