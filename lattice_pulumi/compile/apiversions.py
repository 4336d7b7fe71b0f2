"""The one place that knows the API versions of the kinds Lattice generates.

Compilers build objects through ``header(KIND)`` so a version bump happens here only.
"""

from __future__ import annotations

from typing import Any

__all__ = ["API_VERSIONS", "header"]

API_VERSIONS: dict[str, str] = {
    # core and apps
    "ConfigMap": "v1",
    "Namespace": "v1",
    "PersistentVolumeClaim": "v1",
    "Secret": "v1",
    "Service": "v1",
    "ServiceAccount": "v1",
    "Deployment": "apps/v1",
    "PodDisruptionBudget": "policy/v1",
    "ClusterRole": "rbac.authorization.k8s.io/v1",
    "ClusterRoleBinding": "rbac.authorization.k8s.io/v1",
    "Role": "rbac.authorization.k8s.io/v1",
    "RoleBinding": "rbac.authorization.k8s.io/v1",
    # networking and mesh
    "CiliumNetworkPolicy": "cilium.io/v2",
    "CiliumClusterwideNetworkPolicy": "cilium.io/v2",
    "AuthorizationPolicy": "security.istio.io/v1",
    "PeerAuthentication": "security.istio.io/v1",
    "ServiceEntry": "networking.istio.io/v1",
    "Gateway": "gateway.networking.k8s.io/v1",
    "HTTPRoute": "gateway.networking.k8s.io/v1",
    "GRPCRoute": "gateway.networking.k8s.io/v1",
    # TCPRoute is GA (v1, Standard channel) since Gateway API v1.6; v1alpha2 is deprecated
    "TCPRoute": "gateway.networking.k8s.io/v1",
    "ReferenceGrant": "gateway.networking.k8s.io/v1beta1",
    # add-ons
    "Certificate": "cert-manager.io/v1",
    "ExternalSecret": "external-secrets.io/v1",
    "ScaledObject": "keda.sh/v1alpha1",
    "Canary": "flagger.app/v1beta1",
    "MetricTemplate": "flagger.app/v1beta1",
}


def header(kind: str, name: str, namespace: str | None = None) -> dict[str, Any]:
    """``apiVersion``, ``kind`` and ``metadata`` (name, namespace) of a new object."""
    metadata: dict[str, Any] = {"name": name}
    if namespace is not None:
        metadata["namespace"] = namespace
    return {"apiVersion": API_VERSIONS[kind], "kind": kind, "metadata": metadata}
