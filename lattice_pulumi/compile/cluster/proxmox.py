"""Cluster API Provider Proxmox (CAPMOX): ProxmoxCluster and ProxmoxMachineTemplate.

Version ``v1alpha2``: the CAPMOX API that follows the Cluster API v1beta2 contract (the
catalogue holds v1alpha1 and v1alpha2; v1alpha1 stays served through conversion).

* ProxmoxCluster: the control-plane endpoint (a VIP outside the IP pool, port 6443), the
  IPv4 pool (addresses, prefix, gateway) CAPMOX's in-cluster IPAM hands to nodes, DNS
  servers, the nodes VMs may be placed on, and ``credentialsRef`` to the CloudProvider's
  Secret.
* ProxmoxMachineTemplate: full clone of ``templateID`` from ``sourceNode``, cores, memory,
  boot disk (the node group's ``rootVolume.size``, else ``diskGiB``), one virtio NIC on the
  bridge (and VLAN) taking its address from the cluster's pool, provider-id injection.
* Bootstrap: kube-vip runs as a static pod on control-plane nodes and holds the VIP (ARP,
  leader election). With kubeadm on Kubernetes 1.29+ the first node's ``admin.conf`` has
  no rights before the control plane is up, so kube-vip uses ``super-admin.conf`` during
  ``kubeadm init`` and is switched back afterwards.
* Provider id: CAPI matches a Node to its Machine by ``spec.providerID``, which CAPMOX sets to
  ``proxmox://<instanceID>`` (CAPMOX ``MetadataSettings`` doc; the v1alpha2 schema's
  ``providerID`` pattern is ``proxmox://<uuid>``), the ``instance-id`` of its cloud-init.
  The kubelet gets ``provider-id=proxmox://{{ ds.meta_data.instance_id }}``, the form of
  CAPMOX's own cluster templates (ionos-cloud/cluster-api-provider-proxmox,
  ``templates/cluster-template.yaml``; both bootstrap providers emit a ``## template: jinja``
  cloud-config). CAPMOX's kubeadm templates wrap the UUID in single quotes
  (``proxmox://'{{ ... }}'``); Lattice leaves them out, since the value must equal the
  Machine's providerID and RKE2 hands ``kubelet-arg`` to the kubelet without unquoting.
  ``metadataSettings.providerIDInjection`` also puts ``provider-id`` into the metadata
  (required by the v1alpha2 schema when ``metadataSettings`` is set).
"""

from __future__ import annotations

from typing import Any

from lattice_pulumi.compile.cluster import objects
from lattice_pulumi.compile.cluster.hints import ProviderHints, StaticPod, drop_empty
from lattice_pulumi.compile.cluster.identity import IdentityPlan
from lattice_pulumi.compile.cluster.objects import NodeGroup
from lattice_pulumi.spec.cluster import LatticeCluster
from lattice_pulumi.spec.cluster_providers import ProxmoxConfig

__all__ = [
    "API_SERVER_PORT",
    "CLUSTER_KIND",
    "KUBE_VIP_IMAGE",
    "PROVIDER_ID",
    "TEMPLATE_KIND",
    "bootstrap_hints",
    "build_infrastructure_cluster",
    "build_machine_template",
    "kube_vip_manifest",
]

CLUSTER_KIND = "ProxmoxCluster"
TEMPLATE_KIND = "ProxmoxMachineTemplate"
API_SERVER_PORT = 6443
KUBE_VIP_IMAGE = "ghcr.io/kube-vip/kube-vip:v0.9.2"
# CAPMOX sets Machine.spec.providerID to proxmox://<instance-id>; see the module docstring.
PROVIDER_ID = "proxmox://{{ ds.meta_data.instance_id }}"
_KUBECONFIG = {"kubeadm": "/etc/kubernetes/admin.conf", "rke2": "/etc/rancher/rke2/rke2.yaml"}
_SUPER_ADMIN = "/etc/kubernetes/super-admin.conf"
_INIT_MARKER = "/run/kubeadm/kubeadm.yaml"
_MANIFEST = "/etc/kubernetes/manifests/kube-vip.yaml"

_KUBE_VIP = """apiVersion: v1
kind: Pod
metadata:
  name: kube-vip
  namespace: kube-system
spec:
  containers:
  - name: kube-vip
    image: {image}
    imagePullPolicy: IfNotPresent
    args: ["manager"]
    env:
    - {{name: address, value: "{vip}"}}
    - {{name: port, value: "{port}"}}
    - {{name: vip_arp, value: "true"}}
    - {{name: vip_cidr, value: "32"}}
    - {{name: cp_enable, value: "true"}}
    - {{name: cp_namespace, value: kube-system}}
    - {{name: svc_enable, value: "false"}}
    - {{name: vip_leaderelection, value: "true"}}
    - {{name: vip_leasename, value: plndr-cp-lock}}
    - {{name: vip_leaseduration, value: "15"}}
    - {{name: vip_renewdeadline, value: "10"}}
    - {{name: vip_retryperiod, value: "2"}}
    securityContext:
      capabilities:
        add: [NET_ADMIN, NET_RAW]
    volumeMounts:
    - {{name: kubeconfig, mountPath: /etc/kubernetes/admin.conf}}
  hostAliases:
  - hostnames: [kubernetes]
    ip: 127.0.0.1
  hostNetwork: true
  volumes:
  - name: kubeconfig
    hostPath:
      path: {kubeconfig}
      type: FileOrCreate
"""


def _config(cluster: LatticeCluster) -> ProxmoxConfig:
    config = cluster.spec.provider.config.proxmox
    assert config is not None, "the proxmox builders run only for the proxmox provider"
    return config


def build_infrastructure_cluster(cluster: LatticeCluster, identity: IdentityPlan) -> dict[str, Any]:
    """The ProxmoxCluster."""
    config = _config(cluster)
    pool = config.ipv4_pool
    obj = objects.new_object(CLUSTER_KIND, cluster.name, cluster)
    obj["spec"] = drop_empty(
        {
            "controlPlaneEndpoint": {
                "host": config.control_plane_endpoint,
                "port": API_SERVER_PORT,
            },
            "ipv4Config": {
                "addresses": list(pool.addresses),
                "prefix": pool.prefix,
                "gateway": pool.gateway,
            },
            "dnsServers": list(config.dns_servers),
            "allowedNodes": list(config.allowed_nodes or [config.source_node]),
            "credentialsRef": identity.ref,
        }
    )
    return obj


def build_machine_template(cluster: LatticeCluster, group: NodeGroup) -> dict[str, Any]:
    """A ProxmoxMachineTemplate for the control plane or one pool."""
    config = _config(cluster)
    size = config.machine(group.role, group.name)
    disk = group.root_volume.size if group.root_volume else size.disk_gib
    device = drop_empty(
        {
            "name": "net0",
            "bridge": config.bridge,
            "vlan": config.vlan,
            "model": "virtio",
            "defaultIPv4": True,
        }
    )
    machine = {
        "sourceNode": config.source_node,
        "templateID": config.template_id,
        "full": True,
        "numSockets": size.sockets,
        "numCores": size.cores,
        "memoryMiB": size.memory_mib,
        "disks": {"bootVolume": {"disk": "scsi0", "sizeGb": disk}},
        "network": {"networkDevices": [device]},
        "metadataSettings": {"providerIDInjection": True},
    }
    spec = {"template": {"spec": machine}}
    base = objects.pool_name(cluster, group.name)
    obj = objects.new_object(TEMPLATE_KIND, objects.template_name(base, spec), cluster)
    obj["spec"] = spec
    return obj


def kube_vip_manifest(cluster: LatticeCluster, flavour: str) -> str:
    """The kube-vip static pod holding the control-plane VIP."""
    return _KUBE_VIP.format(
        image=KUBE_VIP_IMAGE,
        vip=_config(cluster).control_plane_endpoint,
        port=API_SERVER_PORT,
        kubeconfig=_KUBECONFIG[flavour],
    )


def bootstrap_hints(cluster: LatticeCluster, flavour: str) -> ProviderHints:
    """kube-vip, and the kubelet's provider id from the cloud-init instance id."""
    use_super = f"s#path: {_KUBECONFIG['kubeadm']}#path: {_SUPER_ADMIN}#"
    back = f"s#path: {_SUPER_ADMIN}#path: {_KUBECONFIG['kubeadm']}#"
    pod = StaticPod(
        name="kube-vip",
        manifest=kube_vip_manifest(cluster, flavour),
        kubeadm_pre_commands=(
            f"if [ -f {_INIT_MARKER} ]; then sed -i '{use_super}' {_MANIFEST}; fi",
        ),
        kubeadm_post_commands=(f"if [ -f {_INIT_MARKER} ]; then sed -i '{back}' {_MANIFEST}; fi",),
    )
    return ProviderHints(
        kubelet_args=(("provider-id", PROVIDER_ID),),
        static_pods=(pod,),
    )
