"""RKE2 kinds have no schema in the catalogue: check them against CAPRKE2's documented API.

Facts from rancher/cluster-api-provider-rke2 (``controlplane/api/v1beta1`` and
``bootstrap/api/v1beta1``): the fields each kind accepts, the version pattern, the
registration methods, the enums of ``cni`` and ``disableComponents``, and that
``machineTemplate.infrastructureRef`` is a core ObjectReference.
"""

from __future__ import annotations

import re
from typing import Any

import pytest

from lattice_pulumi.compile.cluster import compile_cluster
from tests.unit.compile.cluster.helpers import PARENT, example

CONTROL_PLANE_FIELDS = {
    # RKE2ControlPlaneSpec plus the inlined RKE2ConfigSpec
    "replicas", "version", "machineTemplate", "serverConfig", "manifestsConfigMapReference",
    "infrastructureRef", "nodeDrainTimeout", "registrationMethod", "registrationAddress",
    "rolloutStrategy", "remediationStrategy", "files", "preRKE2Commands", "postRKE2Commands",
    "agentConfig", "privateRegistriesConfig", "gzipUserData",
}  # fmt: skip
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
SERVER_FIELDS = {
    "auditPolicySecret", "bindAddress", "advertiseAddress", "tlsSan", "serviceNodePortRange",
    "clusterDNS", "clusterDomain", "disableComponents", "cni", "cniMultusEnable",
    "pauseImage", "etcd", "secretsEncryption", "kubeAPIServer", "kubeControllerManager",
    "kubeScheduler", "cloudControllerManager", "cloudProviderName", "cloudProviderConfigMap",
    "embeddedRegistry", "externalDatastoreSecret",
}  # fmt: skip
COMPONENT_FIELDS = {"extraEnv", "extraArgs", "extraMounts", "overrideImage"}
FILE_FIELDS = {"path", "owner", "permissions", "encoding", "content", "contentFrom"}
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


@pytest.mark.parametrize("provider", ["aws", "openstack", "proxmox"])
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
    assert set(spec["machineTemplate"]) <= {"metadata", "infrastructureRef", "nodeDrainTimeout"}
    server = spec["serverConfig"]
    assert set(server) <= SERVER_FIELDS
    assert server["cni"] in CNI
    assert set(server["disableComponents"]) <= {"kubernetesComponents", "pluginComponents"}
    assert set(server["disableComponents"].get("pluginComponents", [])) <= PLUGINS
    assert set(server["disableComponents"].get("kubernetesComponents", [])) <= (
        KUBERNETES_COMPONENTS
    )
    _check_agent(spec.get("agentConfig", {}))
    _check_files(spec.get("files", []))


@pytest.mark.parametrize("provider", ["aws", "openstack", "proxmox"])
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
