"""Cluster API Provider Docker (CAPD, development): DockerCluster and DockerMachineTemplate.

Machines are kind node containers. Every node mounts the host's Docker socket so the cluster
can run CAPD itself after the pivot. kubeadm gets CAPD's usual adjustments: API server names
reachable from the host (``localhost``, ``127.0.0.1``, ``0.0.0.0``, ``host.docker.internal``),
kubelet eviction thresholds at 0 % (the container's disk is the host's), and the host-path
provisioner; CAPD picks the ``kindest/node`` image of the machine's version.

RKE2 on Docker follows CAPRKE2's own CAPD samples (rancher/cluster-api-provider-rke2,
``samples/docker/clusterclass/clusterclass-quick-start.yaml``):

* the machine version is an RKE2 release (``v1.32.0+rke2r1``), which names no kind image, so
  each DockerMachineTemplate sets ``customImage: kindest/node:v1.32.0`` and a longer
  ``bootstrapTimeout`` (RKE2 downloads its release on first boot);
* joining nodes register through the control-plane endpoint on the RKE2 supervisor port 9345,
  so the DockerCluster's HAProxy gets a custom configuration
  (``loadBalancer.customHAProxyConfigTemplateRef``: a ConfigMap whose ``value`` is a CAPD
  HAProxy template) with a 9345 frontend besides the API server's;
* CAPD sets each node's provider ID itself, so RKE2's embedded cloud controller is disabled
  (``disableComponents.kubernetesComponents: [cloudController]``).
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
    "RKE2_SUPERVISOR_PORT",
    "TEMPLATE_KIND",
    "bootstrap_hints",
    "build_extra_objects",
    "build_infrastructure_cluster",
    "build_machine_template",
    "haproxy_config_name",
]

CLUSTER_KIND = "DockerCluster"
TEMPLATE_KIND = "DockerMachineTemplate"
RKE2_SUPERVISOR_PORT = 9345
_DOCKER_SOCKET = "/var/run/docker.sock"
_RKE2_BOOTSTRAP_TIMEOUT = "15m"
# A CAPD HAProxy template (Go text/template; CAPD fills the ports and backend addresses):
# the API server frontend CAPD always has, plus RKE2's supervisor port for joining nodes.
_HAPROXY_TEMPLATE = """\
global
  log /dev/log local0
  log /dev/log local1 notice
  daemon
  maxconn 100000

resolvers docker
  nameserver dns 127.0.0.11:53

defaults
  log global
  mode tcp
  option dontlognull
  timeout connect 5000
  timeout client 50000
  timeout server 50000
  default-server init-addr none

frontend stats
  mode http
  bind *:8404
  stats enable
  stats uri /stats
  stats refresh 10s

frontend control-plane
  bind *:{{ .FrontendControlPlanePort }}
  {{ if .IPv6 -}}
  bind :::{{ .FrontendControlPlanePort }};
  {{- end }}
  default_backend kube-apiservers

backend kube-apiservers
  option httpchk GET /healthz
  http-check expect status 401
  {{range $server, $address := .BackendServers}}
  server {{ $server }} {{ JoinHostPort $address $.BackendControlPlanePort }} \
check check-ssl verify none resolvers docker \
resolve-prefer {{ if $.IPv6 -}} ipv6 {{- else -}} ipv4 {{- end }}
  {{- end}}

frontend rke2-supervisor
  bind *:9345
  {{ if .IPv6 -}}
  bind :::9345;
  {{- end }}
  default_backend rke2-servers

backend rke2-servers
  option httpchk GET /v1-rke2/readyz
  http-check expect status 403
  {{range $server, $address := .BackendServers}}
  server {{ $server }} {{ $address }}:9345 check check-ssl verify none
  {{- end}}
"""


def _rke2(cluster: LatticeCluster) -> bool:
    return cluster.spec.provider.kubernetes.bootstrap == "rke2"


def haproxy_config_name(cluster: LatticeCluster) -> str:
    """The ConfigMap holding the HAProxy template of an RKE2 cluster's load balancer."""
    return f"{cluster.name}-lb-config"


def build_infrastructure_cluster(cluster: LatticeCluster, identity: IdentityPlan) -> dict[str, Any]:
    """The DockerCluster (CAPD runs an HAProxy load balancer in front of the control plane)."""
    del identity  # CAPD needs no credentials
    obj = objects.new_object(CLUSTER_KIND, cluster.name, cluster)
    obj["spec"] = {}
    if _rke2(cluster):
        obj["spec"]["loadBalancer"] = {
            "customHAProxyConfigTemplateRef": {"name": haproxy_config_name(cluster)}
        }
    return obj


def build_extra_objects(cluster: LatticeCluster) -> list[dict[str, Any]]:
    """The HAProxy template ConfigMap an RKE2 cluster's DockerCluster names (none for kubeadm)."""
    if not _rke2(cluster):
        return []
    obj = objects.new_object("ConfigMap", haproxy_config_name(cluster), cluster)
    obj["data"] = {"value": _HAPROXY_TEMPLATE}
    return [obj]


def build_machine_template(cluster: LatticeCluster, group: NodeGroup) -> dict[str, Any]:
    """A node container with the Docker socket mounted (and the kind image under RKE2)."""
    machine: dict[str, Any] = {
        "extraMounts": [{"containerPath": _DOCKER_SOCKET, "hostPath": _DOCKER_SOCKET}],
    }
    if _rke2(cluster):
        machine["customImage"] = f"kindest/node:v{cluster.spec.provider.kubernetes.version}"
        machine["bootstrapTimeout"] = _RKE2_BOOTSTRAP_TIMEOUT
    spec = {"template": {"spec": machine}}
    base = objects.pool_name(cluster, group.name)
    obj = objects.new_object(TEMPLATE_KIND, objects.template_name(base, spec), cluster)
    obj["spec"] = spec
    return obj


def bootstrap_hints(cluster: LatticeCluster, flavour: str) -> ProviderHints:
    """CAPD's kubeadm adjustments; under RKE2 also no embedded cloud controller."""
    del cluster
    return ProviderHints(
        kubelet_args=(
            ("eviction-hard", "nodefs.available<0%,nodefs.inodesFree<0%,imagefs.available<0%"),
        ),
        controller_manager_args=(("enable-hostpath-provisioner", "true"),),
        cert_sans=("localhost", "127.0.0.1", "0.0.0.0", "host.docker.internal"),
        rke2_disabled_components=("cloudController",) if flavour == "rke2" else (),
    )
