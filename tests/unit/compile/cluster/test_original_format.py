"""Clusters written in the original Lattice's format compile into valid Cluster API objects
that carry what the original fields said (instance types, flavors, VM sizes, RKE2 on CAPD)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from lattice_pulumi.compile.cluster import build_cluster_manifests, compile_cluster
from lattice_pulumi.spec.cluster import LatticeCluster
from lattice_pulumi.spec.loader import load
from lattice_pulumi.spec.providers import CloudProvider
from tests.conftest import ROOT
from tests.manifests import assert_valid
from tests.unit.compile.cluster.helpers import PARENT

FIXTURES = ROOT / "tests" / "fixtures" / "clusters"
FILES = [FIXTURES / "seed-production.yaml", *sorted((FIXTURES / "original").glob("*.yaml"))]


def _compiled(path: Path) -> tuple[LatticeCluster, list[dict[str, Any]]]:
    resources = load(path)
    [cluster] = [r for r in resources if isinstance(r, LatticeCluster)]
    [cloud] = [r for r in resources if isinstance(r, CloudProvider)]
    return cluster, compile_cluster(cluster, cloud, PARENT)


def _kind(objects: list[dict[str, Any]], kind: str) -> list[dict[str, Any]]:
    return [o for o in objects if o["kind"] == kind]


def _templates(objects: list[dict[str, Any]], kind: str) -> dict[str, dict[str, Any]]:
    """Machine template specs by role: ``control-plane`` or the pool name."""
    found = {}
    for obj in _kind(objects, kind):
        name = obj["metadata"]["name"].rsplit("-", 1)[0]
        cluster = obj["metadata"]["labels"]["cluster.x-k8s.io/cluster-name"]
        found[name.removeprefix(f"{cluster}-")] = obj["spec"]["template"]["spec"]
    return found


@pytest.mark.parametrize("path", [pytest.param(p, id=p.stem) for p in FILES])
def test_cluster_renders_and_every_object_validates(path: Path) -> None:
    cluster, objects = _compiled(path)
    assert_valid([*objects, *build_cluster_manifests(cluster)])
    [plane] = [o for o in objects if o["kind"].endswith("ControlPlane")]
    assert plane["spec"]["replicas"] == cluster.spec.nodes.control_plane.replicas
    deployments = {d["metadata"]["name"] for d in _kind(objects, "MachineDeployment")}
    assert deployments == {f"{cluster.name}-{pool}" for pool in cluster.spec.nodes.worker_pools}


def test_the_seed_cluster_renders_its_instance_types() -> None:
    _, objects = _compiled(FIXTURES / "seed-production.yaml")
    machines = _templates(objects, "AWSMachineTemplate")
    assert {role: m["instanceType"] for role, m in machines.items()} == {
        "control-plane": "m5.xlarge", "general": "m5.large", "gpu": "m5.large",
    }  # fmt: skip


def test_flat_aws_defaults_reach_every_node_group() -> None:
    _, objects = _compiled(FIXTURES / "original" / "aws-flat-instance-types.yaml")
    machines = _templates(objects, "AWSMachineTemplate")
    assert machines["control-plane"]["instanceType"] == "m5.xlarge"
    assert machines["control-plane"]["rootVolume"] == {"size": 100, "type": "gp3"}
    assert machines["default"]["instanceType"] == "m5.large"
    assert machines["default"]["rootVolume"]["size"] == 200


def test_openstack_flavors_and_root_volumes_per_role() -> None:
    _, objects = _compiled(FIXTURES / "original" / "openstack-kubeadm.yaml")
    machines = _templates(objects, "OpenStackMachineTemplate")
    assert machines["control-plane"]["flavor"] == "b2-30"
    assert machines["control-plane"]["rootVolume"] == {"sizeGiB": 50, "type": "high-speed"}
    assert machines["general"]["flavor"] == "b2-15"
    assert machines["general"]["rootVolume"] == {"sizeGiB": 100}


@pytest.mark.parametrize(
    ("name", "plane", "worker"),
    [
        pytest.param("proxmox-kubeadm", (1, 4, 8192, 50), (1, 8, 16384, 100), id="kubeadm"),
        pytest.param("proxmox-rke2", (2, 2, 4096, 40), (2, 4, 8192, 80), id="rke2 with sockets"),
    ],
)
def test_proxmox_vm_sizes_per_role(
    name: str, plane: tuple[int, ...], worker: tuple[int, ...]
) -> None:
    _, objects = _compiled(FIXTURES / "original" / f"{name}.yaml")
    machines = _templates(objects, "ProxmoxMachineTemplate")

    def size(spec: dict[str, Any]) -> tuple[int, ...]:
        disk = spec["disks"]["bootVolume"]["sizeGb"]
        return spec["numSockets"], spec["numCores"], spec["memoryMiB"], disk

    assert size(machines.pop("control-plane")) == plane
    assert {size(m) for m in machines.values()} == {worker}


def test_proxmox_instance_types_by_resources_size_each_pool() -> None:
    _, objects = _compiled(FIXTURES / "original" / "proxmox-instance-types.yaml")
    machines = _templates(objects, "ProxmoxMachineTemplate")
    sizes = {
        role: (m["numSockets"], m["numCores"], m["memoryMiB"], m["disks"]["bootVolume"]["sizeGb"])
        for role, m in machines.items()
    }
    assert sizes == {
        "control-plane": (1, 4, 8192, 50),
        "general": (1, 8, 32768, 100),
        "small": (2, 2, 4096, 40),
    }


def test_rke2_on_docker_follows_the_caprke2_capd_samples() -> None:
    cluster, objects = _compiled(FIXTURES / "original" / "docker-rke2.yaml")
    [docker_cluster] = _kind(objects, "DockerCluster")
    ref = docker_cluster["spec"]["loadBalancer"]["customHAProxyConfigTemplateRef"]["name"]
    [config_map] = [c for c in _kind(objects, "ConfigMap") if c["metadata"]["name"] == ref]
    assert config_map["metadata"]["namespace"] == docker_cluster["metadata"]["namespace"]
    haproxy = config_map["data"]["value"]
    assert "bind *:{{ .FrontendControlPlanePort }}" in haproxy
    assert "bind *:9345" in haproxy and "{{ $address }}:9345" in haproxy
    for template in _templates(objects, "DockerMachineTemplate").values():
        assert template["customImage"] == "kindest/node:v1.31.4"
        assert template["bootstrapTimeout"] == "15m"
    [plane] = _kind(objects, "RKE2ControlPlane")
    assert plane["spec"]["version"] == "v1.31.4+rke2r1"
    assert plane["spec"]["registrationMethod"] == "control-plane-endpoint"
    disabled = plane["spec"]["serverConfig"]["disableComponents"]
    assert disabled["kubernetesComponents"] == ["cloudController"]
    for deployment in _kind(objects, "MachineDeployment"):
        assert deployment["spec"]["template"]["spec"]["version"] == "v1.31.4+rke2r1"
    assert cluster.spec.networking.lb_cidr == "172.18.255.10/32"


def test_kubeadm_on_docker_keeps_capd_defaults() -> None:
    _, objects = _compiled(FIXTURES / "original" / "docker-kubeadm-parent.yaml")
    [docker_cluster] = _kind(objects, "DockerCluster")
    assert docker_cluster["spec"] == {}
    assert not _kind(objects, "ConfigMap")
    for template in _templates(objects, "DockerMachineTemplate").values():
        assert "customImage" not in template
