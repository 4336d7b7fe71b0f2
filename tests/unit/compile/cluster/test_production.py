"""The seed's production cluster (AWS, 3 control-plane nodes, general 10, GPU 2..8)."""

from __future__ import annotations

from typing import Any

import pytest
from ruamel.yaml import YAML

from lattice_pulumi.compile.cluster import build_cluster_manifests, compile_cluster, hints
from lattice_pulumi.compile.cluster.proxmox import kube_vip_manifest
from tests.manifests import assert_valid
from tests.unit.compile.cluster.helpers import PARENT, example


def _by_kind(objects: list[dict[str, Any]]) -> dict[str, list[dict[str, Any]]]:
    grouped: dict[str, list[dict[str, Any]]] = {}
    for obj in objects:
        grouped.setdefault(obj["kind"], []).append(obj)
    return grouped


def test_production_renders_and_validates() -> None:
    cluster, cloud = example("aws")
    objects = compile_cluster(cluster, cloud, PARENT)
    assert_valid([*objects, *build_cluster_manifests(cluster)])
    kinds = _by_kind(objects)
    (plane,) = kinds["KubeadmControlPlane"]
    assert plane["spec"]["replicas"] == 3
    replicas = {d["metadata"]["name"]: d["spec"]["replicas"] for d in kinds["MachineDeployment"]}
    assert replicas == {"production-general": 10, "production-gpu": 2}
    assert len(kinds["MachineHealthCheck"]) == 3
    for obj in objects:
        labels = obj["metadata"]["labels"]
        assert labels["cluster.x-k8s.io/cluster-name"] == "production"
        assert labels["app.kubernetes.io/managed-by"] == "lattice"
        if obj["kind"] not in ("Namespace", "AWSClusterStaticIdentity"):
            assert obj["metadata"]["namespace"] == "capi-production"


def test_production_nodes_wait_for_the_aws_cloud_controller() -> None:
    cluster, cloud = example("aws")
    kinds = _by_kind(compile_cluster(cluster, cloud, PARENT))
    config = kinds["KubeadmControlPlane"][0]["spec"]["kubeadmConfigSpec"]
    registration = config["initConfiguration"]["nodeRegistration"]
    assert registration["name"] == "{{ ds.meta_data.local_hostname }}"
    assert {"name": "cloud-provider", "value": "external"} in registration["kubeletExtraArgs"]
    gpu = next(t for t in kinds["KubeadmConfigTemplate"] if "gpu" in t["metadata"]["name"])
    node = gpu["spec"]["template"]["spec"]["joinConfiguration"]["nodeRegistration"]
    assert {"name": "node-labels", "value": "lattice.dev/pool=gpu,nvidia.com/gpu.present=true"} in (
        node["kubeletExtraArgs"]
    )
    assert node["taints"] == [{"key": "nvidia.com/gpu", "value": "true", "effect": "NoSchedule"}]


@pytest.mark.parametrize("bootstrap", ["kubeadm", "rke2"])
def test_fips_sets_tls_12_and_approved_suites(bootstrap: str) -> None:
    plain, cloud = example("aws", bootstrap)
    kubernetes = plain.spec.provider.kubernetes.model_copy(update={"fips": True})
    provider = plain.spec.provider.model_copy(update={"kubernetes": kubernetes})
    cluster = plain.model_copy(
        update={"spec": plain.spec.model_copy(update={"provider": provider})}
    )
    assert hints.tls_args(plain) == ()
    objects = compile_cluster(cluster, cloud, PARENT)
    assert_valid(objects)
    suites = ",".join(hints.FIPS_CIPHER_SUITES)
    plane = _by_kind(objects)[f"{'RKE2' if bootstrap == 'rke2' else 'Kubeadm'}ControlPlane"][0]
    if bootstrap == "rke2":
        args = plane["spec"]["serverConfig"]["kubeAPIServer"]["extraArgs"]
        assert args == ["tls-min-version=VersionTLS12", f"tls-cipher-suites={suites}"]
    else:
        api = plane["spec"]["kubeadmConfigSpec"]["clusterConfiguration"]["apiServer"]
        assert api["extraArgs"] == [
            {"name": "tls-min-version", "value": "VersionTLS12"},
            {"name": "tls-cipher-suites", "value": suites},
        ]


@pytest.mark.parametrize("flavour", ["kubeadm", "rke2"])
def test_kube_vip_static_pod_is_a_valid_pod(flavour: str) -> None:
    cluster, _ = example("proxmox")
    pod = YAML(typ="safe", pure=True).load(kube_vip_manifest(cluster, flavour))
    assert_valid([pod])
    env = {e["name"]: e["value"] for e in pod["spec"]["containers"][0]["env"]}
    assert env["address"] == "10.10.0.10"
