"""Entry points: the mesh objects of one service or one external service, compiled alone.

``compile_service_mesh`` needs only the service and, for egress ports and external
endpoints, what the context knows about its callees; a Pulumi program can therefore compile
each service independently and get the same objects as the whole-graph compile.
"""

from __future__ import annotations

from typing import Any

from lattice_pulumi.compile.context import CompileContext
from lattice_pulumi.compile.mesh import cilium, istio, rule
from lattice_pulumi.compile.mesh.view import MeshMode, MeshView
from lattice_pulumi.spec.external import LatticeExternalService
from lattice_pulumi.spec.service import LatticeService

__all__ = [
    "compile_external_mesh",
    "compile_external_view",
    "compile_service_mesh",
    "compile_service_view",
]


def compile_service_mesh(
    service: LatticeService, context: CompileContext, mode: MeshMode = MeshMode.AMBIENT
) -> list[dict[str, Any]]:
    """CiliumNetworkPolicy, AuthorizationPolicy and PeerAuthentication of ``service``."""
    return compile_service_view(service, MeshView.of(context, mode))


def compile_external_mesh(
    external: LatticeExternalService, context: CompileContext
) -> list[dict[str, Any]]:
    """The ServiceEntry of an external service (its callers' egress is in their policies)."""
    return compile_external_view(external)


def compile_service_view(service: LatticeService, view: MeshView) -> list[dict[str, Any]]:
    """Like ``compile_service_mesh`` over an explicit view (the graph's entry point)."""
    decl = rule.declarations_of(service)  # computed once for both layers
    return [
        cilium.build_cilium_policy(service, view, decl),
        istio.build_authorization_policy(service, view, decl),
        istio.build_peer_authentication(service),
    ]


def compile_external_view(external: LatticeExternalService) -> list[dict[str, Any]]:
    return [istio.build_service_entry(external)]
