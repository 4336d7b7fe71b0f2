"""Cluster API core objects: the Cluster, one MachineDeployment per pool, health checks.

All ``cluster.x-k8s.io/v1beta2`` (references are ``{apiGroup, kind, name}``). Autoscaled
pools carry the cluster-autoscaler's node-group bounds as annotations and start at ``min``
(or at ``replicas`` when the spec sets one inside the bounds). Health checks remediate
machines whose Node stays ``Ready=False`` or ``Ready=Unknown`` for five minutes; the control
plane's check never lets more than a minority be remediated at once (etcd quorum), a pool's
at most 40 %.
"""

from __future__ import annotations

from typing import Any

from lattice_pulumi.compile.cluster import objects
from lattice_pulumi.spec.cluster import LatticeCluster, WorkerPool

__all__ = [
    "AUTOSCALER_MAX_SIZE",
    "AUTOSCALER_MIN_SIZE",
    "UNHEALTHY_TIMEOUT_SECONDS",
    "build_cluster",
    "build_control_plane_health_check",
    "build_machine_deployment",
    "build_pool_health_check",
    "initial_replicas",
]

AUTOSCALER_MIN_SIZE = "cluster.x-k8s.io/cluster-api-autoscaler-node-group-min-size"
AUTOSCALER_MAX_SIZE = "cluster.x-k8s.io/cluster-api-autoscaler-node-group-max-size"
UNHEALTHY_TIMEOUT_SECONDS = 300
_CONTROL_PLANE_STARTUP_SECONDS = 900
_WORKER_STARTUP_SECONDS = 600
_WORKER_MAX_UNHEALTHY = "40%"


def build_cluster(
    cluster: LatticeCluster, control_plane_kind: str, infrastructure_kind: str
) -> dict[str, Any]:
    """The Cluster: network ranges and the control-plane and infrastructure references."""
    net = cluster.spec.networking
    obj = objects.new_object("Cluster", cluster.name, cluster)
    obj["spec"] = {
        "clusterNetwork": {
            "pods": {"cidrBlocks": [net.pod_cidr]},
            "services": {"cidrBlocks": [net.service_cidr]},
            "serviceDomain": "cluster.local",
        },
        "controlPlaneRef": objects.typed_ref(
            control_plane_kind, objects.control_plane_name(cluster)
        ),
        "infrastructureRef": objects.typed_ref(infrastructure_kind, cluster.name),
    }
    return obj


def initial_replicas(pool: WorkerPool) -> int:
    """Replicas at creation: ``replicas``, else ``min`` for an autoscaled pool."""
    if pool.replicas is not None:
        return pool.replicas
    return pool.min or 0


def build_machine_deployment(
    cluster: LatticeCluster,
    pool_name: str,
    pool: WorkerPool,
    *,
    version: str,
    bootstrap: tuple[str, str],
    infrastructure: tuple[str, str],
) -> dict[str, Any]:
    """One pool's MachineDeployment; ``bootstrap``/``infrastructure`` are (kind, name)."""
    name = objects.pool_name(cluster, pool_name)
    obj = objects.new_object("MachineDeployment", name, cluster)
    if pool.min is not None and pool.max is not None:
        obj["metadata"]["annotations"] = {
            AUTOSCALER_MAX_SIZE: str(pool.max),
            AUTOSCALER_MIN_SIZE: str(pool.min),
        }
    selector = {objects.CLUSTER_NAME_LABEL: cluster.name, objects.DEPLOYMENT_NAME_LABEL: name}
    obj["spec"] = {
        "clusterName": cluster.name,
        "replicas": initial_replicas(pool),
        "selector": {"matchLabels": selector},
        "template": {
            "metadata": {"labels": {**selector, objects.POOL_LABEL: pool_name}},
            "spec": {
                "clusterName": cluster.name,
                "version": version,
                "bootstrap": {"configRef": objects.typed_ref(*bootstrap)},
                "infrastructureRef": objects.typed_ref(*infrastructure),
            },
        },
    }
    return obj


def _unhealthy_node_conditions() -> list[dict[str, Any]]:
    return [
        {"type": "Ready", "status": status, "timeoutSeconds": UNHEALTHY_TIMEOUT_SECONDS}
        for status in ("False", "Unknown")
    ]


def build_control_plane_health_check(cluster: LatticeCluster) -> dict[str, Any]:
    """Remediate control-plane machines, at most a minority at a time."""
    replicas = cluster.spec.nodes.control_plane.replicas
    obj = objects.new_object("MachineHealthCheck", objects.control_plane_name(cluster), cluster)
    obj["spec"] = {
        "clusterName": cluster.name,
        "selector": {
            "matchLabels": {
                objects.CLUSTER_NAME_LABEL: cluster.name,
                objects.CONTROL_PLANE_LABEL: "",
            }
        },
        "checks": {
            "nodeStartupTimeoutSeconds": _CONTROL_PLANE_STARTUP_SECONDS,
            "unhealthyNodeConditions": _unhealthy_node_conditions(),
        },
        "remediation": {"triggerIf": {"unhealthyLessThanOrEqualTo": max(1, replicas // 2)}},
    }
    return obj


def build_pool_health_check(cluster: LatticeCluster, pool_name: str) -> dict[str, Any]:
    """Remediate a pool's machines while at most 40 % of them are unhealthy."""
    name = objects.pool_name(cluster, pool_name)
    obj = objects.new_object("MachineHealthCheck", name, cluster)
    obj["spec"] = {
        "clusterName": cluster.name,
        "selector": {
            "matchLabels": {
                objects.CLUSTER_NAME_LABEL: cluster.name,
                objects.DEPLOYMENT_NAME_LABEL: name,
            }
        },
        "checks": {
            "nodeStartupTimeoutSeconds": _WORKER_STARTUP_SECONDS,
            "unhealthyNodeConditions": _unhealthy_node_conditions(),
        },
        "remediation": {"triggerIf": {"unhealthyLessThanOrEqualTo": _WORKER_MAX_UNHEALTHY}},
    }
    return obj
