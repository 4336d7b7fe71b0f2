"""The cluster baseline: default deny everywhere Lattice services run, in both layers.

Per-service policies only open what each service declares; this baseline makes everything
else closed, including pods Lattice does not manage. Without it nothing is default-deny
beyond the services that have their own policies.

* ``CiliumClusterwideNetworkPolicy`` ``lattice-default-deny``: every pod outside the system
  namespaces gets default deny in both directions; only DNS to kube-dns (through the DNS
  proxy) is opened, plus what the data plane needs (ambient: kubelet probes SNAT-ed from
  169.254.7.127; sidecar: istiod on 15012).
* ``AuthorizationPolicy`` ``lattice-default-deny`` in the Istio root namespace with an empty
  spec: an ALLOW policy without rules applied mesh-wide, so a request is denied unless some
  other ALLOW policy (the per-service ones) matches it.
* ``AuthorizationPolicy`` ``lattice-allow-ingress-gateways``: the mesh-wide deny would also
  close the ingress gateways (selected by their Gateway API class label); they stay open to
  the outside, and each backend service still decides whether the gateway may call it.
* ``PeerAuthentication`` ``default`` STRICT in the root namespace: mTLS mesh-wide.

System namespaces (``SYSTEM_NAMESPACES``, plus the ``extra_exempt`` argument) are left out of
the Cilium deny; Istio policies only reach workloads enrolled in the mesh, and Lattice
enrols only service namespaces.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from lattice_pulumi.compile import apiversions, labels
from lattice_pulumi.compile.context import ClusterInfo
from lattice_pulumi.compile.mesh import cilium
from lattice_pulumi.compile.mesh.view import NAMESPACE_LABEL, MeshMode

__all__ = ["ISTIO_ROOT_NAMESPACE", "SYSTEM_NAMESPACES", "compile_mesh_baseline"]

ISTIO_ROOT_NAMESPACE = "istio-system"
SYSTEM_NAMESPACES = (
    "capa-system",
    "capd-system",
    "capi-kubeadm-bootstrap-system",
    "capi-kubeadm-control-plane-system",
    "capi-system",
    "capmox-system",
    "capo-system",
    "cert-manager",
    "cilium-secrets",
    "external-secrets",
    "istio-system",
    "keda",
    "kube-node-lease",
    "kube-public",
    "kube-system",
    "lattice-system",
    "local-path-storage",
    "monitoring",
    "rke2-bootstrap-system",
    "rke2-control-plane-system",
    "velero",
)
DEFAULT_DENY = "lattice-default-deny"


def compile_mesh_baseline(
    cluster: ClusterInfo,
    mode: MeshMode = MeshMode.AMBIENT,
    extra_exempt: Iterable[str] = (),
) -> list[dict[str, Any]]:
    """Cluster-wide default deny (Cilium and Istio) and mesh-wide STRICT mTLS."""
    exempt = sorted({*SYSTEM_NAMESPACES, *extra_exempt})
    return [
        _cilium_default_deny(cluster, mode, exempt),
        _istio_default_deny(cluster),
        _istio_allow_gateways(cluster),
        _istio_strict_mtls(cluster),
    ]


def _cilium_default_deny(cluster: ClusterInfo, mode: MeshMode, exempt: list[str]) -> dict[str, Any]:
    egress = [cilium.dns_egress_rule()]
    ingress: list[dict[str, Any]] = []
    if mode is MeshMode.AMBIENT:
        ingress.append({"fromCIDR": [cilium.AMBIENT_PROBE_CIDR]})
    else:
        egress.append(cilium.istiod_egress_rule())
    selector = {
        "matchExpressions": [{"key": NAMESPACE_LABEL, "operator": "NotIn", "values": exempt}]
    }
    spec: dict[str, Any] = {
        "description": (
            "Lattice baseline: default deny for every pod outside the system namespaces; "
            "services open what they declare in their own policies."
        ),
        "endpointSelector": selector,
        "enableDefaultDeny": {"egress": True, "ingress": True},
        "egress": egress,
    }
    if ingress:
        spec["ingress"] = ingress
    return _object("CiliumClusterwideNetworkPolicy", DEFAULT_DENY, None, cluster, spec)


def _istio_default_deny(cluster: ClusterInfo) -> dict[str, Any]:
    return _object("AuthorizationPolicy", DEFAULT_DENY, ISTIO_ROOT_NAMESPACE, cluster, {})


def _istio_allow_gateways(cluster: ClusterInfo) -> dict[str, Any]:
    selector = {"gateway.networking.k8s.io/gateway-class-name": cluster.gateway_class}
    spec = {"action": "ALLOW", "selector": {"matchLabels": selector}, "rules": [{}]}
    name = "lattice-allow-ingress-gateways"
    return _object("AuthorizationPolicy", name, ISTIO_ROOT_NAMESPACE, cluster, spec)


def _istio_strict_mtls(cluster: ClusterInfo) -> dict[str, Any]:
    spec = {"mtls": {"mode": "STRICT"}}
    return _object("PeerAuthentication", "default", ISTIO_ROOT_NAMESPACE, cluster, spec)


def _object(
    kind: str, name: str, namespace: str | None, cluster: ClusterInfo, spec: dict[str, Any]
) -> dict[str, Any]:
    obj = apiversions.header(kind, name, namespace)
    obj["metadata"]["labels"] = labels.cluster_labels(cluster.name)
    obj["spec"] = spec
    return obj
