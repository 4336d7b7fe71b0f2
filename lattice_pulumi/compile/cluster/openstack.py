"""Cluster API Provider OpenStack (CAPO): OpenStackCluster and OpenStackMachineTemplate.

* OpenStackCluster (v1beta1): the identity reference (``identity``), the external network,
  a managed subnet (``nodeCidr``, ``dnsNameservers``) or the existing network and subnet,
  the Octavia API server load balancer (RKE2 adds the supervisor port 9345), and managed
  security groups opening only what Cilium needs between nodes.
* OpenStackMachineTemplate (v1beta1): flavor (the node group's ``instanceType``, else the
  provider's control-plane or worker flavor), image by name, SSH key, and a root volume
  when the node group asks for one.
* Bootstrap: nodes wait for the external OpenStack cloud controller manager.
"""

from __future__ import annotations

from typing import Any

from lattice_pulumi.compile.cluster import objects
from lattice_pulumi.compile.cluster.hints import ProviderHints, drop_empty
from lattice_pulumi.compile.cluster.identity import IdentityPlan
from lattice_pulumi.compile.cluster.objects import NodeGroup
from lattice_pulumi.spec.cluster import LatticeCluster
from lattice_pulumi.spec.cluster_providers import OpenStackConfig

__all__ = [
    "CLUSTER_KIND",
    "TEMPLATE_KIND",
    "bootstrap_hints",
    "build_infrastructure_cluster",
    "build_machine_template",
]

CLUSTER_KIND = "OpenStackCluster"
TEMPLATE_KIND = "OpenStackMachineTemplate"
_RKE2_SUPERVISOR_PORT = 9345
_CILIUM_PORTS = (
    ("cilium-vxlan", "udp", 8472, "Cilium VXLAN"),
    ("cilium-health", "tcp", 4240, "Cilium health"),
    ("cilium-hubble", "tcp", 4244, "Cilium Hubble"),
)


def _config(cluster: LatticeCluster) -> OpenStackConfig:
    config = cluster.spec.provider.config.openstack
    assert config is not None, "the openstack builders run only for the openstack provider"
    return config


def _security_groups() -> dict[str, Any]:
    rules = [
        {
            "name": name,
            "description": description,
            "direction": "ingress",
            "etherType": "IPv4",
            "protocol": protocol,
            "portRangeMin": port,
            "portRangeMax": port,
            "remoteManagedGroups": ["controlplane", "worker"],
        }
        for name, protocol, port, description in _CILIUM_PORTS
    ]
    return {"allowAllInClusterTraffic": False, "allNodesSecurityGroupRules": rules}


def build_infrastructure_cluster(cluster: LatticeCluster, identity: IdentityPlan) -> dict[str, Any]:
    """The OpenStackCluster."""
    config = _config(cluster)
    spec: dict[str, Any] = {
        "identityRef": identity.ref,
        "externalNetwork": {"id": config.external_network_id},
        "managedSecurityGroups": _security_groups(),
    }
    if config.managed_subnets:
        cidr = cluster.spec.networking.node_cidr or config.node_cidr
        spec["managedSubnets"] = [
            drop_empty({"cidr": cidr, "dnsNameservers": config.dns_nameservers})
        ]
    else:
        spec["network"] = {"id": config.network_id}
        spec["subnets"] = [{"id": config.subnet_id}]
    if config.api_server_load_balancer:
        balancer: dict[str, Any] = {"enabled": True}
        if cluster.spec.provider.kubernetes.bootstrap == "rke2":
            balancer["additionalPorts"] = [_RKE2_SUPERVISOR_PORT]
        spec["apiServerLoadBalancer"] = balancer
    obj = objects.new_object(CLUSTER_KIND, cluster.name, cluster)
    obj["spec"] = spec
    return obj


def build_machine_template(cluster: LatticeCluster, group: NodeGroup) -> dict[str, Any]:
    """An OpenStackMachineTemplate for the control plane or one pool."""
    config = _config(cluster)
    default = config.flavor.control_plane if group.role == "control-plane" else config.flavor.worker
    volume = group.root_volume
    machine = drop_empty(
        {
            "flavor": group.instance_type or default,
            "image": {"filter": {"name": config.image_name}},
            "sshKeyName": config.ssh_key_name,
            "rootVolume": (
                drop_empty({"sizeGiB": volume.size, "type": volume.type}) if volume else None
            ),
        }
    )
    spec = {"template": {"spec": machine}}
    base = objects.pool_name(cluster, group.name)
    obj = objects.new_object(TEMPLATE_KIND, objects.template_name(base, spec), cluster)
    obj["spec"] = spec
    return obj


def bootstrap_hints(cluster: LatticeCluster, flavour: str) -> ProviderHints:
    """Nodes wait for the external OpenStack cloud controller manager."""
    del cluster, flavour
    return ProviderHints(external_cloud_provider=True)
