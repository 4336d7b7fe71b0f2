"""kubeadm bootstrap: the KubeadmControlPlane and one KubeadmConfigTemplate per worker pool.

Both ``v1beta2`` (flags are ``[{name, value}]`` lists). The control plane carries the
certificate names, the API server's TLS policy (FIPS), the provider's kubelet and
controller-manager flags (``cloud-provider=external`` on AWS and OpenStack), static pods
(kube-vip on Proxmox) and the Lattice bootstrap step (``bootstrap``). Workers register with
``lattice.dev/pool=<pool>`` plus the pool's labels and taints.
"""

from __future__ import annotations

from typing import Any

from lattice_pulumi.compile.cluster import objects
from lattice_pulumi.compile.cluster.bootstrap import BootSteps
from lattice_pulumi.compile.cluster.hints import (
    Args,
    ProviderHints,
    drop_empty,
    kubeadm_version,
    merged_args,
    tls_args,
)
from lattice_pulumi.spec.cluster import LatticeCluster, WorkerPool

__all__ = [
    "STATIC_POD_DIR",
    "build_config_template",
    "build_control_plane",
    "node_labels",
]

STATIC_POD_DIR = "/etc/kubernetes/manifests"


def _flags(args: list[tuple[str, str]]) -> list[dict[str, str]]:
    return [{"name": name, "value": value} for name, value in args]


def _kubelet_args(cluster: LatticeCluster, hints: ProviderHints, extra: Args = ()) -> Args:
    cloud: Args = (("cloud-provider", "external"),) if hints.external_cloud_provider else ()
    return tuple(merged_args(hints.kubelet_args, cloud, tls_args(cluster), extra))


def _node_registration(
    hints: ProviderHints, kubelet: Args, taints: list[dict[str, str]] | None = None
) -> dict[str, Any]:
    return drop_empty(
        {
            "name": hints.kubeadm_node_name,
            "kubeletExtraArgs": _flags(list(kubelet)),
            "taints": taints,
        }
    )


def _cluster_configuration(cluster: LatticeCluster, hints: ProviderHints) -> dict[str, Any]:
    sans = list(dict.fromkeys([*hints.cert_sans, *cluster.spec.provider.kubernetes.cert_sans]))
    cloud: Args = (("cloud-provider", "external"),) if hints.external_cloud_provider else ()
    manager = merged_args(hints.controller_manager_args, cloud)
    return drop_empty(
        {
            "apiServer": drop_empty(
                {"certSANs": sans, "extraArgs": _flags(merged_args(tls_args(cluster)))}
            ),
            "controllerManager": drop_empty({"extraArgs": _flags(manager)}),
        }
    )


def build_control_plane(
    cluster: LatticeCluster,
    hints: ProviderHints,
    boot: BootSteps,
    infrastructure: tuple[str, str],
) -> dict[str, Any]:
    """The KubeadmControlPlane; ``infrastructure`` is the machine template's (kind, name)."""
    kubelet = _kubelet_args(cluster, hints)
    static_files = [
        {
            "path": f"{STATIC_POD_DIR}/{pod.name}.yaml",
            "owner": "root:root",
            "permissions": "0644",
            "content": pod.manifest,
        }
        for pod in hints.static_pods
    ]
    config = drop_empty(
        {
            "clusterConfiguration": _cluster_configuration(cluster, hints),
            # two equal dicts, not one shared: YAML output stays free of anchors
            "initConfiguration": drop_empty(
                {"nodeRegistration": _node_registration(hints, kubelet)}
            ),
            "joinConfiguration": drop_empty(
                {"nodeRegistration": _node_registration(hints, kubelet)}
            ),
            "files": [*static_files, *boot.files],
            "preKubeadmCommands": [c for p in hints.static_pods for c in p.kubeadm_pre_commands],
            "postKubeadmCommands": [
                *(c for p in hints.static_pods for c in p.kubeadm_post_commands),
                *boot.commands,
            ],
        }
    )
    obj = objects.new_object("KubeadmControlPlane", objects.control_plane_name(cluster), cluster)
    obj["spec"] = {
        "replicas": cluster.spec.nodes.control_plane.replicas,
        "version": kubeadm_version(cluster),
        "machineTemplate": {"spec": {"infrastructureRef": objects.typed_ref(*infrastructure)}},
        "kubeadmConfigSpec": config,
        "rollout": {"strategy": {"type": "RollingUpdate", "rollingUpdate": {"maxSurge": 1}}},
    }
    return obj


def node_labels(pool_name: str, pool: WorkerPool) -> dict[str, str]:
    """``lattice.dev/pool=<pool>`` and the pool's own labels, sorted by key."""
    merged = {objects.POOL_LABEL: pool_name, **pool.labels}
    return dict(sorted(merged.items()))


def build_config_template(
    cluster: LatticeCluster, pool_name: str, pool: WorkerPool, hints: ProviderHints
) -> dict[str, Any]:
    """A pool's KubeadmConfigTemplate, named after the hash of its spec."""
    labels = ",".join(f"{key}={value}" for key, value in node_labels(pool_name, pool).items())
    taints = [drop_empty({"key": t.key, "value": t.value, "effect": t.effect}) for t in pool.taints]
    kubelet = _kubelet_args(cluster, hints, (("node-labels", labels),))
    spec = {"joinConfiguration": {"nodeRegistration": _node_registration(hints, kubelet, taints)}}
    name = objects.template_name(objects.pool_name(cluster, pool_name), spec)
    obj = objects.new_object("KubeadmConfigTemplate", name, cluster)
    obj["spec"] = {"template": {"spec": spec}}
    return obj
