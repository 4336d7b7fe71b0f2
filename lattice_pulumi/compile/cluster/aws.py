"""Cluster API Provider AWS (CAPA): AWSCluster and AWSMachineTemplate (v1beta2).

* AWSCluster: region, SSH key, tags, the identity reference, the API load balancer (NLB or
  classic, internet-facing or internal; RKE2 adds the supervisor port 9345 as a listener so
  joining servers reach it through the load balancer), a brought VPC and subnets, and CNI
  ingress rules for Cilium between nodes (VXLAN 8472/udp, health 4240/tcp, Hubble 4244/tcp)
  in place of CAPA's Calico defaults.
* AWSMachineTemplate: instance type, IAM instance profile (control plane or nodes), SSH key,
  AMI (an id, or CAPA's lookup fields; neither means CAPA's published image for the
  version), root volume (the node group's, else the provider default), IMDSv2 required.
* Bootstrap: nodes register under their EC2 private DNS name and wait for the external AWS
  cloud controller manager (``cloud-provider=external``).
"""

from __future__ import annotations

from typing import Any

from lattice_pulumi.compile.cluster import objects
from lattice_pulumi.compile.cluster.hints import ProviderHints, drop_empty
from lattice_pulumi.compile.cluster.identity import IdentityPlan
from lattice_pulumi.compile.cluster.objects import NodeGroup
from lattice_pulumi.spec.cluster import LatticeCluster
from lattice_pulumi.spec.cluster_providers import AwsConfig

__all__ = [
    "CILIUM_INGRESS_RULES",
    "CLUSTER_KIND",
    "RKE2_SUPERVISOR_PORT",
    "TEMPLATE_KIND",
    "bootstrap_hints",
    "build_infrastructure_cluster",
    "build_machine_template",
]

CLUSTER_KIND = "AWSCluster"
TEMPLATE_KIND = "AWSMachineTemplate"
RKE2_SUPERVISOR_PORT = 9345
CILIUM_INGRESS_RULES = (
    {"description": "Cilium VXLAN", "protocol": "udp", "fromPort": 8472, "toPort": 8472},
    {"description": "Cilium health", "protocol": "tcp", "fromPort": 4240, "toPort": 4240},
    {"description": "Cilium Hubble", "protocol": "tcp", "fromPort": 4244, "toPort": 4244},
)


def _config(cluster: LatticeCluster) -> AwsConfig:
    config = cluster.spec.provider.config.aws
    assert config is not None, "the aws builders run only for the aws provider"
    return config


def _load_balancer(cluster: LatticeCluster, config: AwsConfig) -> dict[str, Any]:
    balancer: dict[str, Any] = {
        "loadBalancerType": config.load_balancer_type,
        "scheme": "internal" if config.internal_load_balancer else "internet-facing",
    }
    if cluster.spec.provider.kubernetes.bootstrap == "rke2":
        balancer["additionalListeners"] = [{"port": RKE2_SUPERVISOR_PORT, "protocol": "TCP"}]
    return balancer


def build_infrastructure_cluster(cluster: LatticeCluster, identity: IdentityPlan) -> dict[str, Any]:
    """The AWSCluster."""
    config = _config(cluster)
    network: dict[str, Any] = {"cni": {"cniIngressRules": [dict(r) for r in CILIUM_INGRESS_RULES]}}
    if config.vpc_id:
        network["vpc"] = {"id": config.vpc_id}
        network["subnets"] = [{"id": subnet} for subnet in config.subnet_ids]
    obj = objects.new_object(CLUSTER_KIND, cluster.name, cluster)
    obj["spec"] = drop_empty(
        {
            "region": config.region,
            "sshKeyName": config.ssh_key_name,
            "additionalTags": dict(sorted(config.additional_tags.items())),
            "identityRef": identity.ref,
            "controlPlaneLoadBalancer": _load_balancer(cluster, config),
            "network": network,
        }
    )
    return obj


def _image(config: AwsConfig) -> dict[str, Any]:
    ami = config.ami
    if ami is None:
        return {}
    if ami.id:
        return {"ami": {"id": ami.id}}
    return drop_empty(
        {
            "imageLookupOrg": ami.lookup_org,
            "imageLookupBaseOS": ami.lookup_base_os,
            "imageLookupFormat": ami.lookup_format,
        }
    )


def build_machine_template(cluster: LatticeCluster, group: NodeGroup) -> dict[str, Any]:
    """An AWSMachineTemplate for the control plane or one pool."""
    config = _config(cluster)
    profiles = config.iam_instance_profile
    volume = group.root_volume
    root = {
        "size": volume.size if volume else config.root_volume.size,
        "type": (volume.type if volume and volume.type else None) or config.root_volume.type,
    }
    machine = drop_empty(
        {
            "instanceType": group.instance_type,
            "iamInstanceProfile": (
                profiles.control_plane if group.role == "control-plane" else profiles.nodes
            ),
            "sshKeyName": config.ssh_key_name,
            **_image(config),
            "rootVolume": root,
            "instanceMetadataOptions": {"httpEndpoint": "enabled", "httpTokens": "required"},
        }
    )
    spec = {"template": {"spec": machine}}
    base = objects.pool_name(cluster, group.name)
    obj = objects.new_object(TEMPLATE_KIND, objects.template_name(base, spec), cluster)
    obj["spec"] = spec
    return obj


def bootstrap_hints(cluster: LatticeCluster, flavour: str) -> ProviderHints:
    """External cloud provider; kubeadm registers nodes under the EC2 private DNS name."""
    del cluster, flavour
    return ProviderHints(
        external_cloud_provider=True,
        kubeadm_node_name="{{ ds.meta_data.local_hostname }}",
    )
