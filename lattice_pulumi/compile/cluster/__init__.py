"""Compile a LatticeCluster into the Cluster API objects that build it, per provider.

``compile_cluster(cluster, cloud_provider, context)`` is pure and deterministic. It returns,
in this order: the ``capi-<cluster>`` Namespace, the provider identity objects, the
infrastructure cluster, the Cluster, the control plane (``KubeadmControlPlane`` or
``RKE2ControlPlane``) with its machine template and health check, then per pool (sorted by
name) the machine template, bootstrap config template, MachineDeployment and health check.
Every namespaced object is in ``capi-<cluster>``; all carry the Lattice ownership labels and
``cluster.x-k8s.io/cluster-name``. Credentials are only referenced (``identity``); the
one-time bootstrap token only through a Secret reference (``context``, ``bootstrap``).

Providers (``aws``, ``openstack``, ``proxmox``, ``docker``) each build their infrastructure
cluster, machine templates and the hints the bootstrap flavour (``kubeadm``, ``rke2``) needs.
The add-on plan and the Lattice-owned in-cluster manifests are in ``addons``.
Used by ``lattice render``, the Pulumi LatticeCluster component and the operator.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from lattice_pulumi.compile.cluster import (
    aws,
    checks,
    core,
    docker,
    kubeadm,
    objects,
    openstack,
    proxmox,
    rke2,
)
from lattice_pulumi.compile.cluster.addons import Addon, build_cluster_manifests, plan_addons
from lattice_pulumi.compile.cluster.bootstrap import build_boot_steps
from lattice_pulumi.compile.cluster.context import ClusterCompileContext
from lattice_pulumi.compile.cluster.hints import ProviderHints, kubeadm_version, rke2_version
from lattice_pulumi.compile.cluster.identity import (
    IdentityPlan,
    build_credentials_secret,
    build_identity,
)
from lattice_pulumi.compile.cluster.objects import NodeGroup
from lattice_pulumi.spec.cluster import LatticeCluster
from lattice_pulumi.spec.providers import CloudProvider

__all__ = [
    "Addon",
    "ClusterCompileContext",
    "build_cluster_manifests",
    "build_credentials_secret",
    "compile_cluster",
    "plan_addons",
]


@dataclass(frozen=True)
class _Infrastructure:
    cluster_kind: str
    template_kind: str
    build_cluster: Callable[[LatticeCluster, IdentityPlan], dict[str, Any]]
    build_template: Callable[[LatticeCluster, NodeGroup], dict[str, Any]]
    hints: Callable[[LatticeCluster, str], ProviderHints]
    extras: Callable[[LatticeCluster], list[dict[str, Any]]] = lambda cluster: []
    """Objects the infrastructure cluster refers to (CAPD's HAProxy template under RKE2)."""


def _infrastructure(
    cluster_kind: str,
    template_kind: str,
    build_cluster: Callable[[LatticeCluster, IdentityPlan], dict[str, Any]],
    build_template: Callable[[LatticeCluster, NodeGroup], dict[str, Any]],
    hints: Callable[[LatticeCluster, str], ProviderHints],
    extras: Callable[[LatticeCluster], list[dict[str, Any]]] | None = None,
) -> _Infrastructure:
    if extras is None:
        return _Infrastructure(cluster_kind, template_kind, build_cluster, build_template, hints)
    return _Infrastructure(
        cluster_kind, template_kind, build_cluster, build_template, hints, extras
    )


_PROVIDERS: dict[str, _Infrastructure] = {
    "aws": _infrastructure(
        aws.CLUSTER_KIND,
        aws.TEMPLATE_KIND,
        aws.build_infrastructure_cluster,
        aws.build_machine_template,
        aws.bootstrap_hints,
    ),
    "openstack": _infrastructure(
        openstack.CLUSTER_KIND,
        openstack.TEMPLATE_KIND,
        openstack.build_infrastructure_cluster,
        openstack.build_machine_template,
        openstack.bootstrap_hints,
    ),
    "proxmox": _infrastructure(
        proxmox.CLUSTER_KIND,
        proxmox.TEMPLATE_KIND,
        proxmox.build_infrastructure_cluster,
        proxmox.build_machine_template,
        proxmox.bootstrap_hints,
    ),
    "docker": _infrastructure(
        docker.CLUSTER_KIND,
        docker.TEMPLATE_KIND,
        docker.build_infrastructure_cluster,
        docker.build_machine_template,
        docker.bootstrap_hints,
        docker.build_extra_objects,
    ),
}


def compile_cluster(
    cluster: LatticeCluster, cloud_provider: CloudProvider, context: ClusterCompileContext
) -> list[dict[str, Any]]:
    """Every Cluster API object of ``cluster``; CompileError naming each problem otherwise."""
    checks.raise_for_problems(checks.check_cluster(cluster, cloud_provider, context))
    infra = _PROVIDERS[cluster.spec.provider.config.type]
    flavour = cluster.spec.provider.kubernetes.bootstrap
    hints = infra.hints(cluster, flavour)
    identity = build_identity(cluster, cloud_provider)
    plane_template = infra.build_template(cluster, objects.control_plane_group(cluster))
    plane_ref = (infra.template_kind, plane_template["metadata"]["name"])
    boot = build_boot_steps(cluster, context, flavour)
    if flavour == "rke2":
        plane = rke2.build_control_plane(cluster, hints, boot, plane_ref)
    else:
        plane = kubeadm.build_control_plane(cluster, hints, boot, plane_ref)
    result = [
        _namespace(cluster),
        *identity.objects,
        *infra.extras(cluster),
        infra.build_cluster(cluster, identity),
        core.build_cluster(cluster, plane["kind"], infra.cluster_kind),
        plane_template,
        plane,
        core.build_control_plane_health_check(cluster),
    ]
    for name in sorted(cluster.spec.nodes.worker_pools):
        result += _pool(cluster, name, infra, hints)
    return result


def _pool(
    cluster: LatticeCluster, name: str, infra: _Infrastructure, hints: ProviderHints
) -> list[dict[str, Any]]:
    pool = cluster.spec.nodes.worker_pools[name]
    template = infra.build_template(cluster, objects.pool_group(name, pool))
    if cluster.spec.provider.kubernetes.bootstrap == "rke2":
        config = rke2.build_config_template(cluster, name, pool, hints)
        version = rke2_version(cluster)
    else:
        config = kubeadm.build_config_template(cluster, name, pool, hints)
        version = kubeadm_version(cluster)
    deployment = core.build_machine_deployment(
        cluster,
        name,
        pool,
        version=version,
        bootstrap=(config["kind"], config["metadata"]["name"]),
        infrastructure=(template["kind"], template["metadata"]["name"]),
    )
    return [template, config, deployment, core.build_pool_health_check(cluster, name)]


def _namespace(cluster: LatticeCluster) -> dict[str, Any]:
    return objects.new_object("Namespace", objects.capi_namespace(cluster), cluster)
