"""RKE2 bootstrap (CAPRKE2): the RKE2ControlPlane and one RKE2ConfigTemplate per pool.

No schema of these kinds is in the catalogue, so the fields follow CAPRKE2's
``controlplane.cluster.x-k8s.io/v1beta1`` and ``bootstrap.cluster.x-k8s.io/v1beta1`` API
(rancher/cluster-api-provider-rke2, ``RKE2ControlPlaneSpec`` and ``RKE2ConfigSpec``):

* ``version`` is ``v1.X.Y+rke2rN`` (pattern ``v\\d\\.\\d{2}\\.\\d+\\+rke2r\\d``);
* ``machineTemplate.infrastructureRef`` is a core ObjectReference (``apiVersion``);
* ``rolloutStrategy`` is required (``RollingUpdate``, ``maxSurge`` 1);
* ``registrationMethod`` is one of internal-first, internal-only-ips, external-only-ips,
  address, control-plane-endpoint; Lattice joins through the control-plane endpoint;
* ``serverConfig``: ``cni`` none (Lattice installs Cilium), ``tlsSan``,
  ``disableComponents.pluginComponents`` (Lattice brings ingress and metrics-server),
  ``kubeAPIServer.extraArgs`` as ``flag=value`` strings, ``cloudProviderName``;
* ``agentConfig``: ``nodeLabels`` (``key=value``), ``nodeTaints`` (``key=value:Effect``),
  ``kubelet.extraArgs``;
* ``files`` (with ``contentFrom.secret``), ``preRKE2Commands``, ``postRKE2Commands``.
"""

from __future__ import annotations

from typing import Any

from lattice_pulumi.compile.cluster import objects
from lattice_pulumi.compile.cluster.bootstrap import BootSteps
from lattice_pulumi.compile.cluster.hints import (
    Args,
    ProviderHints,
    drop_empty,
    merged_args,
    rke2_version,
    tls_args,
)
from lattice_pulumi.compile.cluster.kubeadm import node_labels
from lattice_pulumi.spec.cluster import LatticeCluster, WorkerPool

__all__ = [
    "DISABLED_PLUGINS",
    "REGISTRATION_METHODS",
    "STATIC_POD_DIR",
    "build_config_template",
    "build_control_plane",
]

STATIC_POD_DIR = "/var/lib/rancher/rke2/agent/pod-manifests"
REGISTRATION_METHODS = (
    "internal-first",
    "internal-only-ips",
    "external-only-ips",
    "address",
    "control-plane-endpoint",
)
DISABLED_PLUGINS = ("rke2-ingress-nginx", "rke2-metrics-server")


def _strings(args: Args | list[tuple[str, str]]) -> list[str]:
    return [f"{name}={value}" for name, value in args]


def _agent_config(
    cluster: LatticeCluster, hints: ProviderHints, pool: tuple[str, WorkerPool] | None = None
) -> dict[str, Any]:
    cloud: Args = (("cloud-provider", "external"),) if hints.external_cloud_provider else ()
    kubelet = merged_args(hints.kubelet_args, cloud, tls_args(cluster))
    config: dict[str, Any] = {"kubelet": drop_empty({"extraArgs": _strings(kubelet)})}
    if pool is not None:
        name, spec = pool
        config["nodeLabels"] = _strings(list(node_labels(name, spec).items()))
        config["nodeTaints"] = [
            f"{t.key}={t.value}:{t.effect}" if t.value else f"{t.key}:{t.effect}"
            for t in spec.taints
        ]
    return drop_empty(config)


def _server_config(cluster: LatticeCluster, hints: ProviderHints) -> dict[str, Any]:
    sans = list(dict.fromkeys([*hints.cert_sans, *cluster.spec.provider.kubernetes.cert_sans]))
    return drop_empty(
        {
            "cni": "none",
            "tlsSan": sans,
            "disableComponents": drop_empty(
                {
                    "kubernetesComponents": list(hints.rke2_disabled_components),
                    "pluginComponents": list(DISABLED_PLUGINS),
                }
            ),
            "kubeAPIServer": drop_empty({"extraArgs": _strings(tls_args(cluster))}),
            "cloudProviderName": "external" if hints.external_cloud_provider else None,
        }
    )


def build_control_plane(
    cluster: LatticeCluster,
    hints: ProviderHints,
    boot: BootSteps,
    infrastructure: tuple[str, str],
) -> dict[str, Any]:
    """The RKE2ControlPlane; ``infrastructure`` is the machine template's (kind, name)."""
    static_files = [
        {
            "path": f"{STATIC_POD_DIR}/{pod.name}.yaml",
            "owner": "root:root",
            "permissions": "0644",
            "content": pod.manifest,
        }
        for pod in hints.static_pods
    ]
    obj = objects.new_object("RKE2ControlPlane", objects.control_plane_name(cluster), cluster)
    obj["spec"] = drop_empty(
        {
            "replicas": cluster.spec.nodes.control_plane.replicas,
            "version": rke2_version(cluster),
            "registrationMethod": hints.rke2_registration,
            "rolloutStrategy": {"type": "RollingUpdate", "rollingUpdate": {"maxSurge": 1}},
            "machineTemplate": {"infrastructureRef": objects.object_ref(*infrastructure)},
            "serverConfig": _server_config(cluster, hints),
            "agentConfig": _agent_config(cluster, hints),
            "files": [*static_files, *boot.files],
            "postRKE2Commands": list(boot.commands),
        }
    )
    return obj


def build_config_template(
    cluster: LatticeCluster, pool_name: str, pool: WorkerPool, hints: ProviderHints
) -> dict[str, Any]:
    """A pool's RKE2ConfigTemplate, named after the hash of its spec."""
    spec = {"agentConfig": _agent_config(cluster, hints, (pool_name, pool))}
    name = objects.template_name(objects.pool_name(cluster, pool_name), spec)
    obj = objects.new_object("RKE2ConfigTemplate", name, cluster)
    obj["spec"] = {"template": {"spec": spec}}
    return obj
