"""The chart add-ons of a cluster's plan as Cluster API Add-on Provider for Helm objects.

``addon_releases(cluster)`` turns every chart entry of ``plan_addons(cluster)`` into one
``HelmChartProxy`` in the cluster's ``capi-<cluster>`` namespace on the management plane.
It selects the workload cluster by ``cluster.x-k8s.io/cluster-name``, pins the chart
version from the catalogue, waits for the release (``wait``, ``waitForJobs``) and carries
the install wave and the add-ons it needs as annotations, so an installer that walks the
waves (``install_waves``) applies a wave only once the previous one is ready. The values
are the few that make the add-ons work together (Istio ambient with Cilium, HAMi in place
of the GPU operator's device plugin, the cluster's pod range); the charts' defaults do the
rest. Non-chart entries are not here: Gateway API CRDs come from their release manifest and
the cluster-autoscaler is rendered by ``addons.build_cluster_manifests``.
"""

from __future__ import annotations

import json
from typing import Any

from lattice_pulumi.compile.cluster import objects
from lattice_pulumi.compile.cluster.addons import (
    DEPENDS_ON,
    Addon,
    install_waves,
    plan_addons,
)
from lattice_pulumi.spec.cluster import LatticeCluster

__all__ = ["ADDON_LABEL", "DEPENDS_ANNOTATION", "WAVE_ANNOTATION", "addon_releases"]

ADDON_LABEL = "lattice.dev/addon"
WAVE_ANNOTATION = "lattice.dev/install-wave"
DEPENDS_ANNOTATION = "lattice.dev/depends-on"

INSTALL_TIMEOUT = "15m"


def _values(addon: Addon, cluster: LatticeCluster, names: set[str]) -> dict[str, Any]:
    """Chart values that tie the add-ons of this plan together."""
    spec = cluster.spec
    if addon.name == "cilium":
        values: dict[str, Any] = {
            "ipam": {"operator": {"clusterPoolIPv4PodCIDRList": [spec.networking.pod_cidr]}},
        }
        if "ztunnel" in names:  # Istio ambient chains its CNI after Cilium's
            values["cni"] = {"exclusive": False}
            values["socketLB"] = {"hostNamespaceOnly": True}
        if spec.networking.lb_cidr:
            values["l2announcements"] = {"enabled": True}
        return values
    if addon.name in ("istiod", "istio-cni", "ztunnel"):
        return {"profile": "ambient"}
    if addon.name == "cert-manager":
        return {"crds": {"enabled": True}}
    if addon.name == "external-secrets":
        return {"installCRDs": True}
    if addon.name == "gpu-operator" and "hami" in names:
        return {"devicePlugin": {"enabled": False}}
    if addon.name == "victoria-metrics-operator":
        return {"replicaCount": 2 if spec.monitoring.ha else 1}
    return {}


def _release(addon: Addon, cluster: LatticeCluster, wave: int, names: set[str]) -> dict[str, Any]:
    proxy = objects.new_object("HelmChartProxy", f"{cluster.name}-{addon.name}", cluster)
    proxy["metadata"]["labels"][ADDON_LABEL] = addon.name
    needs = [dep for dep in DEPENDS_ON.get(addon.name, ()) if dep in names]
    proxy["metadata"]["annotations"] = {WAVE_ANNOTATION: str(wave)}
    if needs:
        proxy["metadata"]["annotations"][DEPENDS_ANNOTATION] = ",".join(needs)
    proxy["spec"] = {
        "clusterSelector": {"matchLabels": {objects.CLUSTER_NAME_LABEL: cluster.name}},
        "repoURL": addon.repo,
        "chartName": addon.chart,
        "version": addon.version,
        "releaseName": addon.name,
        "namespace": addon.namespace,
        "valuesTemplate": json.dumps(_values(addon, cluster, names), sort_keys=True),
        "options": {
            "wait": True,
            "waitForJobs": True,
            "timeout": INSTALL_TIMEOUT,
            "install": {"createNamespace": True},
        },
    }
    return proxy


def addon_releases(cluster: LatticeCluster) -> list[dict[str, Any]]:
    """One HelmChartProxy per chart add-on of the cluster's plan, in plan order."""
    plan = plan_addons(cluster)
    names = {a.name for a in plan}
    wave_of = {a.name: wave for wave, members in enumerate(install_waves(plan)) for a in members}
    return [_release(a, cluster, wave_of[a.name], names) for a in plan if a.is_chart]
