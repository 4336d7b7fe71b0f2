"""Builders for the self-cluster planner tests: a LatticeCluster model and the Cluster API
bodies the planner reads (control plane, MachineDeployments, health checks), in the shape
the real controllers leave them (v1beta2 status fields)."""

from __future__ import annotations

from typing import Any

from lattice_pulumi.compile.cluster import compile_cluster
from lattice_pulumi.compile.cluster.context import ClusterCompileContext
from lattice_pulumi.operator.cluster_observed import Observed
from lattice_pulumi.operator.cluster_plan import desired_health_checks
from lattice_pulumi.spec.cluster import LatticeCluster
from lattice_pulumi.spec.providers import CloudProvider

CLOUD = CloudProvider.model_validate(
    {
        "apiVersion": "lattice.dev/v1alpha1",
        "kind": "CloudProvider",
        "metadata": {"name": "docker", "namespace": "lattice-system"},
        "spec": {"type": "docker"},
    }
)


def cluster(
    version: str = "1.32.0",
    *,
    pools: dict[str, dict[str, Any]] | None = None,
    control_plane: int = 1,
    bootstrap: str = "kubeadm",
) -> LatticeCluster:
    return LatticeCluster.model_validate(
        {
            "apiVersion": "lattice.dev/v1alpha1",
            "kind": "LatticeCluster",
            "metadata": {"name": "self"},
            "spec": {
                "providerRef": "docker",
                "provider": {
                    "kubernetes": {"version": version, "bootstrap": bootstrap},
                    "config": {"docker": {}},
                },
                "nodes": {
                    "controlPlane": {"replicas": control_plane},
                    "workerPools": pools if pools is not None else {"general": {"replicas": 2}},
                },
                "monitoring": {"enabled": False},
            },
        }
    )


def compiled(model: LatticeCluster) -> dict[str, dict[str, Any]]:
    """The compiler's objects of ``model`` by ``Kind/name``."""
    objs = compile_cluster(model, CLOUD, ClusterCompileContext())
    return {f"{o['kind']}/{o['metadata']['name']}": o for o in objs}


def control_plane(
    spec: str,
    status: str | None,
    *,
    replicas: int = 1,
    up_to_date: int | None = None,
    ready: int | None = None,
    kind: str = "KubeadmControlPlane",
) -> dict[str, Any]:
    body: dict[str, Any] = {
        "apiVersion": "controlplane.cluster.x-k8s.io/v1beta2",
        "kind": kind,
        "metadata": {"name": "self-control-plane", "namespace": "capi-self", "generation": 1},
        "spec": {"replicas": replicas, "version": spec},
        "status": {"observedGeneration": 1, "replicas": replicas},
    }
    if status is not None:
        body["status"]["version"] = status
    body["status"]["upToDateReplicas"] = replicas if up_to_date is None else up_to_date
    body["status"]["readyReplicas"] = replicas if ready is None else ready
    return body


def deployment(
    pool: str,
    version: str,
    *,
    replicas: int = 2,
    up_to_date: int | None = None,
    ready: int | None = None,
    annotations: dict[str, str] | None = None,
) -> dict[str, Any]:
    done = replicas if up_to_date is None else up_to_date
    metadata: dict[str, Any] = {"name": f"self-{pool}", "namespace": "capi-self", "generation": 1}
    if annotations:
        metadata["annotations"] = annotations
    return {
        "apiVersion": "cluster.x-k8s.io/v1beta2",
        "kind": "MachineDeployment",
        "metadata": metadata,
        "spec": {"replicas": replicas, "template": {"spec": {"version": version}}},
        "status": {
            "observedGeneration": 1,
            "replicas": replicas,
            "upToDateReplicas": done,
            "availableReplicas": done,
            "readyReplicas": replicas if ready is None else ready,
        },
    }


def observed(
    model: LatticeCluster,
    plane: dict[str, Any] | None,
    deployments: dict[str, dict[str, Any]],
    *,
    checks: dict[str, dict[str, Any]] | None = None,
) -> Observed:
    if checks is None:
        checks = {c["metadata"]["name"]: c for c in desired_health_checks(model)}
    cluster_body = {"apiVersion": "cluster.x-k8s.io/v1beta2", "kind": "Cluster", "metadata": {}}
    return Observed(cluster_body, plane, deployments, checks)
