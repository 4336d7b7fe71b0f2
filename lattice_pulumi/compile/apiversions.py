"""The one place that knows the API versions of the kinds Lattice generates.

Compilers build objects through ``header(KIND)`` so a version bump happens here only.
"""

from __future__ import annotations

from typing import Any

__all__ = ["API_VERSIONS", "api_group", "header"]

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
    "NetworkPolicy": "networking.k8s.io/v1",
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
    # Cluster API Add-on Provider for Helm: a chart installed into selected clusters
    "HelmChartProxy": "addons.cluster.x-k8s.io/v1alpha1",
    "Schedule": "velero.io/v1",
    "ExternalSecret": "external-secrets.io/v1",
    "SecretStore": "external-secrets.io/v1",
    "Password": "generators.external-secrets.io/v1alpha1",
    "ScaledObject": "keda.sh/v1alpha1",
    "Canary": "flagger.app/v1beta1",
    "MetricTemplate": "flagger.app/v1beta1",
    # Cluster API core, kubeadm bootstrap and control plane (v1beta2 contract)
    "Cluster": "cluster.x-k8s.io/v1beta2",
    "MachineDeployment": "cluster.x-k8s.io/v1beta2",
    "MachineHealthCheck": "cluster.x-k8s.io/v1beta2",
    "KubeadmConfigTemplate": "bootstrap.cluster.x-k8s.io/v1beta2",
    "KubeadmControlPlane": "controlplane.cluster.x-k8s.io/v1beta2",
    # CAPRKE2 (rancher/cluster-api-provider-rke2); v1beta1 refs are apiVersion-style
    "RKE2ConfigTemplate": "bootstrap.cluster.x-k8s.io/v1beta1",
    "RKE2ControlPlane": "controlplane.cluster.x-k8s.io/v1beta1",
    # Cluster API infrastructure providers
    "AWSCluster": "infrastructure.cluster.x-k8s.io/v1beta2",
    "AWSClusterControllerIdentity": "infrastructure.cluster.x-k8s.io/v1beta2",
    "AWSClusterRoleIdentity": "infrastructure.cluster.x-k8s.io/v1beta2",
    "AWSClusterStaticIdentity": "infrastructure.cluster.x-k8s.io/v1beta2",
    "AWSMachineTemplate": "infrastructure.cluster.x-k8s.io/v1beta2",
    "DockerCluster": "infrastructure.cluster.x-k8s.io/v1beta1",
    "DockerMachineTemplate": "infrastructure.cluster.x-k8s.io/v1beta1",
    "OpenStackCluster": "infrastructure.cluster.x-k8s.io/v1beta1",
    "OpenStackClusterIdentity": "infrastructure.cluster.x-k8s.io/v1alpha1",
    "OpenStackMachineTemplate": "infrastructure.cluster.x-k8s.io/v1beta1",
    # CAPMOX v1alpha2 is the release that follows the Cluster API v1beta2 contract
    "ProxmoxCluster": "infrastructure.cluster.x-k8s.io/v1alpha2",
    "ProxmoxMachineTemplate": "infrastructure.cluster.x-k8s.io/v1alpha2",
}


def header(kind: str, name: str, namespace: str | None = None) -> dict[str, Any]:
    """``apiVersion``, ``kind`` and ``metadata`` (name, namespace) of a new object."""
    metadata: dict[str, Any] = {"name": name}
    if namespace is not None:
        metadata["namespace"] = namespace
    return {"apiVersion": API_VERSIONS[kind], "kind": kind, "metadata": metadata}


def api_group(kind: str) -> str:
    """The API group of ``kind`` (``""`` for core kinds): what Cluster API v1beta2 refs name."""
    return API_VERSIONS[kind].rpartition("/")[0]
