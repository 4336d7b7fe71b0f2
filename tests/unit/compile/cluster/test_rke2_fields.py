"""RKE2 kinds have no schema in the catalogue: check them against CAPRKE2's documented API.

Verified against rancher/cluster-api-provider-rke2 (the v1beta1 API, as of commit a1f54889):

* ``controlplane/api/v1beta1/rke2controlplane_types.go``: ``RKE2ControlPlaneSpec`` (inlines
  ``RKE2ConfigSpec``), the ``version`` pattern, the ``registrationMethod`` enum,
  ``rolloutStrategy`` (no ``omitempty``: required), ``machineTemplate.infrastructureRef`` as a
  core ObjectReference (the top-level ``infrastructureRef`` is deprecated),
  ``RKE2ServerConfig``, the ``cni`` and ``disableComponents`` enums;
* ``bootstrap/api/v1beta1/rke2config_types.go``: ``RKE2ConfigSpec`` (``files``,
  ``preRKE2Commands``, ``postRKE2Commands``, ``agentConfig``), ``RKE2AgentConfig``
  (``nodeLabels``/``nodeTaints`` are string lists), ``File`` with ``contentFrom.secret``
  (``name``, ``key``), ``ComponentConfig.extraArgs`` as ``flag=value`` strings.
"""

from __future__ import annotations

import re
from typing import Any

import pytest

from lattice_pulumi.compile.cluster import compile_cluster
from tests.unit.compile.cluster.helpers import PARENT, example

# controlplane/api/v1beta1/rke2controlplane_types.go: RKE2ControlPlaneSpec
CONTROL_PLANE_FIELDS = {
    # RKE2ControlPlaneSpec plus the inlined RKE2ConfigSpec
    "replicas", "version", "machineTemplate", "serverConfig", "manifestsConfigMapReference",
    "infrastructureRef", "nodeDrainTimeout", "registrationMethod", "registrationAddress",
    "rolloutStrategy", "remediationStrategy", "files", "preRKE2Commands", "postRKE2Commands",
    "agentConfig", "privateRegistriesConfig", "gzipUserData",
}  # fmt: skip
# bootstrap/api/v1beta1/rke2config_types.go: RKE2ConfigSpec, RKE2AgentConfig, File
CONFIG_SPEC_FIELDS = {
    "files", "preRKE2Commands", "postRKE2Commands", "agentConfig", "privateRegistriesConfig",
    "gzipUserData",
}  # fmt: skip
AGENT_FIELDS = {
    "dataDir", "nodeLabels", "nodeAnnotations", "nodeTaints", "nodeName", "ntp",
    "imageCredentialProviderConfigMap", "containerRuntimeEndpoint", "snapshotter",
    "cisProfile", "podSecurityAdmissionConfigFile", "resolvConf", "protectKernelDefaults",
    "systemDefaultRegistry", "enableContainerdSElinux", "kubeletPath", "kubelet",
    "kubeProxy", "runtimeImage", "loadBalancerPort", "airGapped", "airGappedChecksum",
    "format", "additionalUserData",
}  # fmt: skip
# controlplane/api/v1beta1/rke2controlplane_types.go: RKE2ServerConfig
SERVER_FIELDS = {
    "auditPolicySecret", "bindAddress", "advertiseAddress", "tlsSan", "serviceNodePortRange",
    "clusterDNS", "clusterDomain", "disableComponents", "cni", "cniMultusEnable",
    "pauseImage", "etcd", "secretsEncryption", "kubeAPIServer", "kubeControllerManager",
    "kubeScheduler", "cloudControllerManager", "cloudProviderName", "cloudProviderConfigMap",
    "embeddedRegistry", "externalDatastoreSecret",
}  # fmt: skip
# bootstrap/api/v1beta1/rke2config_types.go: ComponentConfig (extraArgs: []string, flag=value)
COMPONENT_FIELDS = {"extraEnv", "extraArgs", "extraMounts", "overrideImage"}
MACHINE_TEMPLATE_FIELDS = {
    "metadata", "infrastructureRef", "nodeDrainTimeout", "nodeVolumeDetachTimeout",
    "nodeDeletionTimeout",
}  # fmt: skip
FILE_FIELDS = {"path", "owner", "permissions", "encoding", "content", "contentFrom"}
# +kubebuilder:validation:Pattern on RKE2ControlPlaneSpec.Version, and the enums
VERSION = re.compile(r"(v\d\.\d{2}\.\d+\+rke2r\d)|^$")
REGISTRATION = {
    "internal-first", "internal-only-ips", "external-only-ips", "address",
    "control-plane-endpoint",
}  # fmt: skip
CNI = {"none", "calico", "canal", "cilium"}
PLUGINS = {
    "rke2-coredns", "rke2-ingress-nginx", "rke2-metrics-server", "rke2-snapshot-controller",
    "rke2-snapshot-controller-crd", "rke2-snapshot-validation-webhook",
}  # fmt: skip
KUBERNETES_COMPONENTS = {"scheduler", "kubeProxy", "cloudController"}


def _objects(provider: str) -> dict[str, list[dict[str, Any]]]:
    cluster, cloud = example(provider, "rke2")
    by_kind: dict[str, list[dict[str, Any]]] = {}
    for obj in compile_cluster(cluster, cloud, PARENT):
        by_kind.setdefault(obj["kind"], []).append(obj)
    return by_kind


def _check_files(files: list[dict[str, Any]]) -> None:
    for entry in files:
        assert set(entry) <= FILE_FIELDS
        assert "path" in entry
        if "contentFrom" in entry:
            assert set(entry["contentFrom"]) == {"secret"}
            assert set(entry["contentFrom"]["secret"]) == {"name", "key"}


def _check_agent(agent: dict[str, Any]) -> None:
    assert set(agent) <= AGENT_FIELDS
    assert set(agent.get("kubelet", {})) <= COMPONENT_FIELDS
    for arg in agent.get("kubelet", {}).get("extraArgs", []):
        assert re.fullmatch(r"[a-z-]+=.+", arg), arg
    for label in agent.get("nodeLabels", []):
        assert "=" in label
    for taint in agent.get("nodeTaints", []):
        assert re.fullmatch(r"[^=:]+(=[^:]*)?:(NoSchedule|PreferNoSchedule|NoExecute)", taint)


@pytest.mark.parametrize("provider", ["aws", "openstack", "proxmox", "docker"])
def test_control_plane_uses_only_documented_fields(provider: str) -> None:
    (plane,) = _objects(provider)["RKE2ControlPlane"]
    spec = plane["spec"]
    assert plane["apiVersion"] == "controlplane.cluster.x-k8s.io/v1beta1"
    assert set(spec) <= CONTROL_PLANE_FIELDS
    assert VERSION.fullmatch(spec["version"])
    assert spec["registrationMethod"] in REGISTRATION
    assert spec["rolloutStrategy"] == {"type": "RollingUpdate", "rollingUpdate": {"maxSurge": 1}}
    ref = spec["machineTemplate"]["infrastructureRef"]
    assert set(ref) == {"apiVersion", "kind", "name"}
    assert set(spec["machineTemplate"]) <= MACHINE_TEMPLATE_FIELDS
    assert "infrastructureRef" not in spec, "deprecated: use machineTemplate.infrastructureRef"
    server = spec["serverConfig"]
    assert set(server) <= SERVER_FIELDS
    assert server["cni"] in CNI
    assert set(server["disableComponents"]) <= {"kubernetesComponents", "pluginComponents"}
    assert set(server["disableComponents"].get("pluginComponents", [])) <= PLUGINS
    assert set(server["disableComponents"].get("kubernetesComponents", [])) <= (
        KUBERNETES_COMPONENTS
    )
    for component in ("kubeAPIServer", "kubeControllerManager", "kubeScheduler"):
        assert set(server.get(component, {})) <= COMPONENT_FIELDS
        for arg in server.get(component, {}).get("extraArgs", []):
            assert re.fullmatch(r"[a-z-]+=.+", arg), arg
    assert all(isinstance(c, str) for c in spec.get("postRKE2Commands", []))
    assert all(isinstance(c, str) for c in spec.get("preRKE2Commands", []))
    _check_agent(spec.get("agentConfig", {}))
    _check_files(spec.get("files", []))


@pytest.mark.parametrize("provider", ["aws", "openstack", "proxmox", "docker"])
def test_config_templates_use_only_documented_fields(provider: str) -> None:
    templates = _objects(provider)["RKE2ConfigTemplate"]
    assert templates
    for template in templates:
        assert template["apiVersion"] == "bootstrap.cluster.x-k8s.io/v1beta1"
        assert set(template["spec"]) == {"template"}
        spec = template["spec"]["template"]["spec"]
        assert set(spec) <= CONFIG_SPEC_FIELDS
        _check_agent(spec["agentConfig"])


def test_supervisor_port_reaches_the_servers_through_the_aws_load_balancer() -> None:
    (aws_cluster,) = _objects("aws")["AWSCluster"]
    listeners = aws_cluster["spec"]["controlPlaneLoadBalancer"]["additionalListeners"]
    assert listeners == [{"port": 9345, "protocol": "TCP"}]


def test_kube_vip_goes_to_the_rke2_manifest_folder_with_the_rke2_kubeconfig() -> None:
    (plane,) = _objects("proxmox")["RKE2ControlPlane"]
    (vip,) = [f for f in plane["spec"]["files"] if f["path"].endswith("kube-vip.yaml")]
    assert vip["path"] == "/var/lib/rancher/rke2/agent/pod-manifests/kube-vip.yaml"
    assert "path: /etc/rancher/rke2/rke2.yaml" in vip["content"]


def test_proxmox_kubelets_take_the_capmox_provider_id() -> None:
    # CAPMOX sets providerID to proxmox://<instance-id>; its templates pass the same to the
    # kubelet (ionos-cloud/cluster-api-provider-proxmox, templates/cluster-template.yaml).
    # Unquoted here: RKE2 hands kubelet-arg values to the kubelet as they are.
    by_kind = _objects("proxmox")
    (plane,) = by_kind["RKE2ControlPlane"]
    expected = "provider-id=proxmox://{{ ds.meta_data.instance_id }}"
    assert expected in plane["spec"]["agentConfig"]["kubelet"]["extraArgs"]
    for template in by_kind["RKE2ConfigTemplate"]:
        agent = template["spec"]["template"]["spec"]["agentConfig"]
        assert expected in agent["kubelet"]["extraArgs"]
