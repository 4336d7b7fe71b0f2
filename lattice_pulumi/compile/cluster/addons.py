"""The add-on plan of a cluster (as data) and the Lattice-owned in-cluster manifests.

``plan_addons(cluster)`` lists what the cluster's switches turn on, each with a pinned
version and the reason; installing them is a later step. ``CATALOGUE`` below is the ONE
place versions are pinned. An entry whose ``chart`` is empty is not a Helm chart:
``repo`` is then a release URL (Gateway API CRDs), or empty when Lattice renders the
manifests itself (``build_cluster_manifests``: cluster-autoscaler).

What turns what on:

* always: Cilium (the CNI; clusters boot without one), cert-manager (webhook certificates
  of the Cluster API providers the cluster runs after its pivot, and service certificates);
  the provider's cloud controller manager on AWS and OpenStack (nodes register with
  ``cloud-provider=external``);
* ``services``: Gateway API CRDs and Istio ambient (base, istiod, CNI, ztunnel);
* ``monitoring``: VictoriaMetrics operator, KEDA, metrics-server;
* ``backups``: Velero; ``externalSecrets``: External Secrets Operator;
* ``gpu``: NVIDIA GPU operator and HAMi (GPU sharing);
* any pool with ``min``/``max``: cluster-autoscaler.

Install order is a dependency graph (``DEPENDS_ON``), not list position: ``plan_addons``
sorts the switched-on add-ons topologically (ties keep ``CATALOGUE`` order) and
``install_waves`` groups them into waves whose members only need earlier waves.
``addon_releases`` (module ``releases``) renders the chart add-ons as HelmChartProxy objects.

``build_cluster_manifests(cluster)`` returns the namespaces (with Pod Security labels), the
mesh baseline when ``services`` is on, and the cluster-autoscaler (``autoscaler``).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from lattice_pulumi.compile import apiversions, labels
from lattice_pulumi.compile.cluster import autoscaler
from lattice_pulumi.compile.context import ClusterInfo
from lattice_pulumi.compile.mesh.baseline import compile_mesh_baseline
from lattice_pulumi.errors import CompileError
from lattice_pulumi.spec.cluster import LatticeCluster

__all__ = [
    "CATALOGUE",
    "DEPENDS_ON",
    "LATTICE_NAMESPACE",
    "POD_SECURITY",
    "Addon",
    "build_cluster_manifests",
    "build_namespaces",
    "install_waves",
    "order_addons",
    "plan_addons",
]

LATTICE_NAMESPACE = "lattice-system"


@dataclass(frozen=True)
class Addon:
    """One piece of software a cluster runs: where it comes from and why it is there."""

    name: str
    chart: str
    repo: str
    version: str
    namespace: str
    reason: str

    @property
    def is_chart(self) -> bool:
        return bool(self.chart)


_ISTIO = "https://istio-release.storage.googleapis.com/charts"
# name: (chart, repo, version, namespace). Review and bump here only.
CATALOGUE: dict[str, tuple[str, str, str, str]] = {
    "cilium": ("cilium", "https://helm.cilium.io", "1.18.1", "kube-system"),
    "cert-manager": ("cert-manager", "https://charts.jetstack.io", "v1.18.2", "cert-manager"),
    "aws-cloud-controller-manager": (
        "aws-cloud-controller-manager",
        "https://kubernetes.github.io/cloud-provider-aws",
        "0.0.9",
        "kube-system",
    ),
    "openstack-cloud-controller-manager": (
        "openstack-cloud-controller-manager",
        "https://kubernetes.github.io/cloud-provider-openstack",
        "2.32.0",
        "kube-system",
    ),
    "gateway-api-crds": (
        "",
        "https://github.com/kubernetes-sigs/gateway-api/releases/download/v1.6.1/"
        "standard-install.yaml",
        "v1.6.1",
        "",
    ),
    "istio-base": ("base", _ISTIO, "1.27.0", "istio-system"),
    "istiod": ("istiod", _ISTIO, "1.27.0", "istio-system"),
    "istio-cni": ("cni", _ISTIO, "1.27.0", "istio-system"),
    "ztunnel": ("ztunnel", _ISTIO, "1.27.0", "istio-system"),
    "victoria-metrics-operator": (
        "victoria-metrics-operator",
        "https://victoriametrics.github.io/helm-charts",
        "0.50.1",
        "monitoring",
    ),
    "keda": ("keda", "https://kedacore.github.io/charts", "2.17.2", "keda"),
    "metrics-server": (
        "metrics-server",
        "https://kubernetes-sigs.github.io/metrics-server",
        "3.13.0",
        "kube-system",
    ),
    "velero": ("velero", "https://vmware-tanzu.github.io/helm-charts", "10.0.1", "velero"),
    "external-secrets": (
        "external-secrets",
        "https://charts.external-secrets.io",
        "0.18.2",
        "external-secrets",
    ),
    "gpu-operator": (
        "gpu-operator",
        "https://helm.ngc.nvidia.com/nvidia",
        "v25.3.2",
        "gpu-operator",
    ),
    "hami": ("hami", "https://project-hami.github.io/HAMi", "2.6.0", "kube-system"),
}

# What each add-on needs running first (only those the same plan holds count). The CNI
# comes first (no pod starts without it); cert-manager issues the webhook certificates of
# the operators after it; istiod reads Gateway API CRDs; the Istio CNI and ztunnel need
# istiod; KEDA scales on VictoriaMetrics queries; HAMi runs on the GPU operator's toolkit.
DEPENDS_ON: dict[str, tuple[str, ...]] = {
    "cilium": (),
    "cert-manager": ("cilium",),
    "aws-cloud-controller-manager": (),
    "openstack-cloud-controller-manager": (),
    "gateway-api-crds": (),
    "istio-base": ("cilium",),
    "istiod": ("istio-base", "gateway-api-crds", "cert-manager"),
    "istio-cni": ("istiod",),
    "ztunnel": ("istio-cni",),
    "victoria-metrics-operator": ("cert-manager",),
    "keda": ("cert-manager", "victoria-metrics-operator"),
    "metrics-server": ("cilium",),
    "velero": ("cilium",),
    "external-secrets": ("cert-manager",),
    "gpu-operator": ("cilium",),
    "hami": ("gpu-operator",),
    "cluster-autoscaler": ("cilium",),
}

# Pod Security level each add-on namespace enforces (node agents need privileged).
POD_SECURITY: dict[str, str] = {
    LATTICE_NAMESPACE: "restricted",
    "cert-manager": "restricted",
    "external-secrets": "restricted",
    "gpu-operator": "privileged",
    "istio-system": "privileged",
    "keda": "restricted",
    "monitoring": "privileged",
    "velero": "privileged",
}


def _addon(name: str, reason: str) -> Addon:
    chart, repo, version, namespace = CATALOGUE[name]
    return Addon(name, chart, repo, version, namespace, reason)


def _needs(addon: Addon, names: set[str]) -> set[str]:
    return {dep for dep in DEPENDS_ON.get(addon.name, ()) if dep in names}


def order_addons(addons: list[Addon]) -> list[Addon]:
    """``addons`` sorted so each comes after what it needs; ties keep their given order."""
    names = {a.name for a in addons}
    placed: list[Addon] = []
    done: set[str] = set()
    pending = list(addons)
    while pending:
        ready = next((a for a in pending if _needs(a, names) <= done), None)
        if ready is None:
            cycle = ", ".join(sorted(a.name for a in pending))
            raise CompileError(f"add-on dependencies form a cycle among: {cycle}")
        placed.append(ready)
        done.add(ready.name)
        pending.remove(ready)
    return placed


def install_waves(plan: list[Addon]) -> list[list[Addon]]:
    """The plan in waves: every add-on of a wave only needs add-ons of earlier waves."""
    names = {a.name for a in plan}
    wave_of: dict[str, int] = {}
    for addon in order_addons(plan):
        wave_of[addon.name] = 1 + max((wave_of[d] for d in _needs(addon, names)), default=-1)
    waves: list[list[Addon]] = [[] for _ in range(max(wave_of.values(), default=-1) + 1)]
    for addon in order_addons(plan):
        waves[wave_of[addon.name]].append(addon)
    return waves


def plan_addons(cluster: LatticeCluster) -> list[Addon]:
    """Every add-on the cluster's switches turn on, in dependency (install) order."""
    return order_addons(_switched_on(cluster))


def _switched_on(cluster: LatticeCluster) -> list[Addon]:
    spec = cluster.spec
    plan = [
        _addon("cilium", "CNI: nodes start without one"),
        _addon("cert-manager", "webhook certificates of the Cluster API providers after pivot"),
    ]
    provider = spec.provider.config.type
    if provider in ("aws", "openstack"):
        plan.append(
            _addon(f"{provider}-cloud-controller-manager", "nodes use cloud-provider=external")
        )
    if spec.services:
        plan.append(_addon("gateway-api-crds", "services: Gateway API routes"))
        plan += [
            _addon(name, "services: Istio ambient mesh")
            for name in ("istio-base", "istiod", "istio-cni", "ztunnel")
        ]
    if spec.monitoring.enabled:
        ha = " (replicated)" if spec.monitoring.ha else ""
        plan.append(_addon("victoria-metrics-operator", f"monitoring: metrics store{ha}"))
        plan.append(_addon("keda", "monitoring: event-driven autoscaling of services"))
        plan.append(_addon("metrics-server", "monitoring: resource metrics API"))
    if spec.backups.enabled:
        plan.append(_addon("velero", f"backups: location {spec.backups.storage_location}"))
    if spec.external_secrets.enabled:
        plan.append(_addon("external-secrets", "externalSecrets: secrets from SecretProviders"))
    if spec.gpu.enabled:
        plan.append(_addon("gpu-operator", "gpu: NVIDIA drivers, device plugin"))
        plan.append(_addon("hami", "gpu: GPU sharing"))
    pools = autoscaler.autoscaled_pools(cluster)
    if pools:
        image = autoscaler.image_for(cluster)
        bounds = ", ".join(f"{name} ({pool.min}..{pool.max})" for name, pool in pools)
        plan.append(
            Addon(
                "cluster-autoscaler",
                "",
                "",
                image.rpartition(":")[2],
                LATTICE_NAMESPACE,
                f"autoscaled pools: {bounds}; Lattice renders it",
            )
        )
    return plan


def build_namespaces(cluster: LatticeCluster, plan: list[Addon]) -> list[dict[str, Any]]:
    """``lattice-system`` and every add-on namespace with a Pod Security level, sorted."""
    names = sorted({LATTICE_NAMESPACE, *(a.namespace for a in plan if a.namespace in POD_SECURITY)})
    result = []
    for name in names:
        level = POD_SECURITY[name]
        namespace = apiversions.header("Namespace", name)
        namespace["metadata"]["labels"] = {
            **labels.cluster_labels(cluster.name),
            "pod-security.kubernetes.io/enforce": level,
            "pod-security.kubernetes.io/audit": "restricted",
            "pod-security.kubernetes.io/warn": "restricted",
        }
        result.append(namespace)
    return result


def build_cluster_manifests(cluster: LatticeCluster) -> list[dict[str, Any]]:
    """Namespaces, the mesh baseline (with ``services``) and the cluster-autoscaler."""
    objects = build_namespaces(cluster, plan_addons(cluster))
    if cluster.spec.services:
        objects += compile_mesh_baseline(ClusterInfo.from_cluster(cluster))
    objects += autoscaler.build_autoscaler(cluster)
    return objects
