"""What the mesh compilers may see besides the spec they compile, and the shared helpers.

``MeshView`` is the read-only slice of a ``CompileContext`` the mesh needs: the cluster (trust
domain), the services and external services known (for callee ports and external endpoints)
and the data-plane mode. The graph builds one over its own maps; ``compile_service_mesh``
builds one from a context. Identity helpers (Cilium endpoint labels, Istio principals) and
port helpers live here so both layers name workloads the same way.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping
from dataclasses import dataclass

from lattice_pulumi.compile import labels
from lattice_pulumi.compile.context import ClusterInfo, CompileContext
from lattice_pulumi.spec.external import LatticeExternalService
from lattice_pulumi.spec.service import LatticeService

__all__ = [
    "HBONE_PORT",
    "NAMESPACE_LABEL",
    "MeshMode",
    "MeshView",
    "PortRef",
    "endpoint_identity",
    "principal",
    "service_ports",
    "split_key",
]

NAMESPACE_LABEL = "k8s:io.kubernetes.pod.namespace"
HBONE_PORT = 15008


class MeshMode(enum.Enum):
    """Istio data plane: ``AMBIENT`` (ztunnel, HBONE on 15008) or ``SIDECAR`` (Envoy per pod)."""

    AMBIENT = "ambient"
    SIDECAR = "sidecar"


@dataclass(frozen=True, order=True)
class PortRef:
    """A target (container) port and its protocol."""

    port: int
    protocol: str = "TCP"


@dataclass(frozen=True)
class MeshView:
    """Cluster facts and the neighbours a mesh compile may look at (never mutated)."""

    cluster: ClusterInfo
    services: Mapping[str, LatticeService]
    externals: Mapping[str, LatticeExternalService]
    mode: MeshMode = MeshMode.AMBIENT

    @classmethod
    def of(cls, context: CompileContext, mode: MeshMode = MeshMode.AMBIENT) -> MeshView:
        return cls(context.cluster, context.services, context.external_services, mode)


def split_key(key: str) -> tuple[str, str]:
    """``("ns", "name")`` of a ``ns/name`` key."""
    namespace, _, name = key.partition("/")
    return namespace, name


def endpoint_identity(key: str) -> dict[str, str]:
    """Cilium labels that identify the pods of service ``ns/name`` from any namespace."""
    namespace, name = split_key(key)
    return {NAMESPACE_LABEL: namespace, labels.SERVICE_LABEL: name}


def principal(trust_domain: str, key: str) -> str:
    """Istio principal of service ``ns/name`` (its service account is named after it)."""
    namespace, name = split_key(key)
    return f"{trust_domain}/ns/{namespace}/sa/{name}"


def service_ports(service: LatticeService, names: tuple[str, ...] = ()) -> list[PortRef] | None:
    """Target ports of ``service`` (only ``names`` when given), sorted.

    ``None`` when the service declares no ports at all: callers may then use any port.
    An empty list means the narrowing matched no port, so nothing is reachable.
    """
    block = service.spec.workload.service
    if block is None or not block.ports:
        return None
    chosen = {
        PortRef(spec.container_port, spec.protocol)
        for port_name, spec in block.ports.items()
        if not names or port_name in names
    }
    return sorted(chosen)
