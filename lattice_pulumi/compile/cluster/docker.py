"""Cluster API Provider Docker (CAPD, development): DockerCluster and DockerMachineTemplate.

Machines are kind node containers (CAPD picks the ``kindest/node`` image of the version).
Every node mounts the host's Docker socket so the cluster can run CAPD itself after the
pivot. kubeadm gets CAPD's usual adjustments: API server names reachable from the host
(``localhost``, ``127.0.0.1``, ``0.0.0.0``, ``host.docker.internal``), kubelet eviction
thresholds at 0 % (the container's disk is the host's), and the host-path provisioner.
RKE2 on Docker is rejected by the spec.
"""

from __future__ import annotations

from typing import Any

from lattice_pulumi.compile.cluster import objects
from lattice_pulumi.compile.cluster.hints import ProviderHints
from lattice_pulumi.compile.cluster.identity import IdentityPlan
from lattice_pulumi.compile.cluster.objects import NodeGroup
from lattice_pulumi.spec.cluster import LatticeCluster

__all__ = [
    "CLUSTER_KIND",
    "TEMPLATE_KIND",
    "bootstrap_hints",
    "build_infrastructure_cluster",
    "build_machine_template",
]

CLUSTER_KIND = "DockerCluster"
TEMPLATE_KIND = "DockerMachineTemplate"
_DOCKER_SOCKET = "/var/run/docker.sock"


def build_infrastructure_cluster(cluster: LatticeCluster, identity: IdentityPlan) -> dict[str, Any]:
    """The DockerCluster (CAPD runs an HAProxy load balancer in front of the control plane)."""
    del identity  # CAPD needs no credentials
    obj = objects.new_object(CLUSTER_KIND, cluster.name, cluster)
    obj["spec"] = {}
    return obj


def build_machine_template(cluster: LatticeCluster, group: NodeGroup) -> dict[str, Any]:
    """A node container with the Docker socket mounted."""
    spec = {
        "template": {
            "spec": {
                "extraMounts": [{"containerPath": _DOCKER_SOCKET, "hostPath": _DOCKER_SOCKET}],
            }
        }
    }
    base = objects.pool_name(cluster, group.name)
    obj = objects.new_object(TEMPLATE_KIND, objects.template_name(base, spec), cluster)
    obj["spec"] = spec
    return obj


def bootstrap_hints(cluster: LatticeCluster, flavour: str) -> ProviderHints:
    """CAPD's kubeadm adjustments."""
    del cluster, flavour
    return ProviderHints(
        kubelet_args=(
            ("eviction-hard", "nodefs.available<0%,nodefs.inodesFree<0%,imagefs.available<0%"),
        ),
        controller_manager_args=(("enable-hostpath-provisioner", "true"),),
        cert_sans=("localhost", "127.0.0.1", "0.0.0.0", "host.docker.internal"),
    )
