"""LatticeCluster documents in the original Lattice's format load, come out in one canonical
form, and report errors at the field the author wrote (``spec.cluster_aliases``)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from typer.testing import CliRunner

from lattice_pulumi.cli.main import app
from lattice_pulumi.spec.base import dump_canonical
from lattice_pulumi.spec.cluster import LatticeCluster
from lattice_pulumi.spec.loader import load, load_text
from lattice_pulumi.spec.yamlout import dump_all
from tests.conftest import ROOT

FIXTURES = ROOT / "tests" / "fixtures" / "clusters"
ORIGINAL = sorted((FIXTURES / "original").glob("*.yaml"))
SEED = FIXTURES / "seed-production.yaml"
GOLDEN = ROOT / "tests" / "golden" / "canonical"
ALL = [pytest.param(p, id=p.stem) for p in [SEED, *ORIGINAL]]


def _clusters(path: Path) -> list[LatticeCluster]:
    return [r for r in load(path) if isinstance(r, LatticeCluster)]


def canonical_text(path: Path) -> str:
    return dump_all([dump_canonical(r) for r in load(path)])


def test_the_fixtures_cover_every_provider_and_bootstrap() -> None:
    assert len(ORIGINAL) >= 12
    seen = {
        (c.spec.provider.config.type, c.spec.provider.kubernetes.bootstrap)
        for path in ORIGINAL
        for c in _clusters(path)
    }
    assert seen == {(p, b) for p in ("aws", "docker", "openstack", "proxmox")
                    for b in ("kubeadm", "rke2")}  # fmt: skip


@pytest.mark.parametrize("path", ALL)
def test_canonical_output_matches_the_reviewed_golden_file(path: Path) -> None:
    rendered = canonical_text(path)
    golden = GOLDEN / f"{path.stem}.yaml"
    if os.environ.get("UPDATE_GOLDEN"):
        golden.parent.mkdir(parents=True, exist_ok=True)
        golden.write_text(rendered)
    assert golden.exists(), f"missing {golden}: run with UPDATE_GOLDEN=1 and review it"
    assert rendered == golden.read_text()


@pytest.mark.parametrize("path", ALL)
def test_the_canonical_document_means_the_same_as_the_original(path: Path) -> None:
    golden = GOLDEN / f"{path.stem}.yaml"
    assert canonical_text(golden) == golden.read_text()
    originals = [r.model_dump() for r in load(path)]
    assert [r.model_dump() for r in load(golden)] == originals


def test_the_seed_cluster_loads_as_the_seed_describes_it() -> None:
    [cluster] = _clusters(SEED)
    spec = cluster.spec
    assert spec.nodes.control_plane.replicas == 3
    assert spec.nodes.control_plane.instance_type == "m5.xlarge"
    pools = spec.nodes.worker_pools
    assert (pools["general"].replicas, pools["general"].instance_type) == (10, "m5.large")
    assert (pools["gpu"].replicas, pools["gpu"].min, pools["gpu"].max) == (2, 1, 8)
    assert pools["gpu"].instance_type == "m5.large"  # workerInstanceType is every pool's default
    assert spec.services and spec.monitoring.enabled and spec.backups.enabled
    assert spec.external_secrets.enabled and not spec.gpu.enabled
    assert spec.parent_config is not None and spec.parent_config.service.type == "LoadBalancer"


def test_lattice_validate_accepts_the_seed_verbatim_and_prints_it_canonical() -> None:
    runner = CliRunner()
    plain = runner.invoke(app, ["validate", "-f", str(SEED)])
    assert plain.exit_code == 0, plain.output
    printed = runner.invoke(app, ["validate", "-f", str(SEED), "--canonical"])
    assert printed.exit_code == 0
    assert printed.stdout == (GOLDEN / "seed-production.yaml").read_text()
    as_yaml = runner.invoke(app, ["validate", "-f", str(SEED), "-o", "yaml"])
    assert as_yaml.stdout == printed.stdout


def test_a_pool_instance_type_overrides_the_worker_default() -> None:
    [cluster] = _clusters(FIXTURES / "original" / "openstack-rke2-pools.yaml")
    pools = cluster.spec.nodes.worker_pools
    assert (pools["small"].instance_type, pools["large"].instance_type) == (None, "b2-60")
    openstack = cluster.spec.provider.config.openstack
    assert openstack is not None
    assert (openstack.flavor.control_plane, openstack.flavor.worker) == ("b2-15", "b2-7")


def test_proxmox_sizes_and_address_ranges_map_onto_ours() -> None:
    [cluster] = _clusters(FIXTURES / "original" / "proxmox-kubeadm.yaml")
    proxmox = cluster.spec.provider.config.proxmox
    assert proxmox is not None
    assert proxmox.ipv4_pool.addresses == ["10.0.0.101-10.0.0.120"]
    assert proxmox.ipv4_pool.prefix == 24
    plane, worker = proxmox.machine("control-plane"), proxmox.machine("worker")
    assert (plane.cores, plane.memory_mib, plane.disk_gib) == (4, 8192, 50)
    assert (worker.cores, worker.memory_mib, worker.disk_gib) == (8, 16384, 100)
    assert cluster.spec.networking.lb_cidr == "10.0.0.200/29"


_CLUSTER = """\
apiVersion: lattice.dev/v1alpha1
kind: LatticeCluster
metadata:
  name: bad
spec:
  providerRef: p
  provider:
    kubernetes:
      version: "1.32.0"
    config:
{config}
  nodes:
    controlPlane:
{plane}
    workerPools:
      general:
        replicas: 2
        instanceType:
          name: m7i-flex.large
{extra}"""
_AWS = "      aws:\n        region: us-east-1"
_PLANE = "      replicas: 1\n      instanceType:\n        name: m7i-flex.large"


def _doc(config: str = _AWS, plane: str = _PLANE, extra: str = "") -> str:
    return _CLUSTER.format(config=config, plane=plane, extra=extra)


BAD = [
    pytest.param(
        _doc(plane="      replicas: 1\n      instanceType:\n        name: 5"),
        ["<input>:17:9 spec.nodes.controlPlane.instanceType.name: expected a valid string, "
         "got 5"],
        id="instance type name of the wrong type"),
    pytest.param(
        _doc(plane="      replicas: 1\n      instanceType: {}"),
        ["<input>:16:7 spec.nodes.controlPlane.instanceType.name: required field is missing",
         "<input>:16:7 spec.nodes.controlPlane.instanceType: instanceType is required with the "
         "aws provider (for example m6i.xlarge)"],
        id="instance type without a name"),
    pytest.param(
        _doc(plane=_PLANE + "\n      rootVolume:\n        sizeGb: 0"),
        ["<input>:19:9 spec.nodes.controlPlane.rootVolume.sizeGb: expected greater than or "
         "equal to 1, got 0"],
        id="root volume of 0 GB"),
    pytest.param(
        _doc(plane=_PLANE + "\n      rootVolume:\n        sizeGb: 40\n        type: fast"),
        ["<input>:20:9 spec.nodes.controlPlane.rootVolume.type: 'fast' is not an EBS volume "
         "type: expected one of gp2, gp3, io1, io2, st1, sc1, standard"],
        id="root volume type that EBS lacks"),
    pytest.param(
        _doc(config=_AWS + "\n        cpRootVolumeSizeGb: 50\n        cpRootVolumeType: fast"),
        ["<input>:14:9 spec.provider.config.aws.cpRootVolumeType: 'fast' is not an EBS volume "
         "type: expected one of gp2, gp3, io1, io2, st1, sc1, standard"],
        id="cp root volume type that EBS lacks"),
    pytest.param(
        _doc(config=_AWS + "\n        cpInstanceType: 7",
             plane="      replicas: 1"),
        ["<input>:13:9 spec.provider.config.aws.cpInstanceType: expected a valid string, got 7"],
        id="cp instance type of the wrong type"),
    pytest.param(
        _doc(plane="      replicas: 1").replace("    controlPlane:\n      replicas: 1",
                                                 "    controlPlane: 2"),
        ["<input>:14:5 spec.nodes.controlPlane: 2 control-plane replicas cannot keep etcd "
         "quorum: expected an odd number such as 1, 3 or 5"],
        id="even control-plane count"),
    pytest.param(
        _doc(extra="  networking:\n    default:\n      cidr: 10.0.0.1/24\n"),
        ["<input>:25:7 spec.networking.default.cidr: '10.0.0.1/24' has host bits set: "
         "expected the network address 10.0.0.0/24"],
        id="load-balancer pool with host bits"),
    pytest.param(
        _doc(extra="  networking:\n    lbCidr: 10.0.1.0/24\n    default:\n"
                   "      cidr: 10.0.2.0/24\n"),
        ["<input>:26:7 spec.networking.default.cidr: '10.0.2.0/24' differs from "
         "networking.lbCidr ('10.0.1.0/24'); set the load-balancer range in one place"],
        id="load-balancer range in two places"),
    pytest.param(
        _doc(extra="  parentConfig:\n    host: 172.18.255.1\n    service:\n"
                   "      type: LoadBalancer\n"),
        ["<input>:24:5 spec.parentConfig.host: parentConfig.host is not used: children reach "
         "this parent through its parent service (parentConfig.service.type) and the "
         "bootstrap endpoint it is installed with; remove host"],
        id="parent host"),
    pytest.param(
        _doc(extra="  monitoring: maybe\n"),
        ["<input>:23:3 spec.monitoring: expected a valid dictionary or instance of "
         "MonitoringFeature, got 'maybe'"],
        id="monitoring neither switch nor block"),
    pytest.param(
        _doc(config=_AWS + "\n        sshAuthorizedKeys: [ssh-ed25519 AAAA]"),
        ["<input>:13:9 spec.provider.config.aws.sshAuthorizedKeys: EC2 instances take one key "
         "pair: name it in sshKeyName"],
        id="aws authorized keys"),
    pytest.param(
        _doc(config="      openstack:\n        externalNetworkId: 0d8e2a3c-5f4b-4c1e-9a7d-"
                    "2b6f8e1c3a90\n        cpFlavor: b2-30\n        workerFlavor: 15\n"
                    "        imageName: ubuntu\n        managedSecurityGroups: true"),
        ["<input>:16:9 spec.provider.config.openstack.managedSecurityGroups: Lattice always "
         "lets CAPO manage the security groups; remove it",
         "<input>:14:9 spec.provider.config.openstack.workerFlavor: expected a valid string, "
         "got 15"],
        id="openstack security groups and a bad worker flavor"),
    pytest.param(
        _doc(config="      proxmox:\n        controlPlaneEndpoint: 10.0.0.100\n"
                    "        ipv4Pool:\n          range: 10.0.0.101/24\n"
                    "          gateway: 10.0.0.1\n        cpCores: 0\n        sourceNode: pve\n"
                    "        templateId: 9000\n        dnsServers: [10.0.0.1]\n"
                    "        fullClone: false",
             plane="      replicas: 1"),
        ["<input>:14:11 spec.provider.config.proxmox.ipv4Pool.range: '10.0.0.101/24' is not "
         "an address range: expected START-END/PREFIX such as 10.0.0.101-120/24 or "
         "10.0.0.101-10.0.0.120/24",
         "<input>:20:9 spec.provider.config.proxmox.fullClone: fullClone is a CAPMOX option "
         "Lattice does not set: VMs are full clones of templateId on sourceNode; remove it",
         "<input>:16:9 spec.provider.config.proxmox.cpCores: expected greater than or equal "
         "to 1, got 0"],
        id="proxmox range, clone option and cores"),
    pytest.param(
        _doc(plane="      replicas: 1\n      instanceType:\n        cores: 4"),
        ["<input>:16:7 spec.nodes.controlPlane.instanceType: instanceType cores size a machine "
         "by resources, which only the proxmox provider does: name an instance type "
         "(instanceType: {name: ...})",
         "<input>:16:7 spec.nodes.controlPlane.instanceType: instanceType is required with the "
         "aws provider (for example m6i.xlarge)"],
        id="resource sizes off proxmox"),
    pytest.param(
        _doc(config="      proxmox:\n        controlPlaneEndpoint: 10.0.0.100\n"
                    "        ipv4Pool:\n          range: 10.0.0.101-120/24\n"
                    "          gateway: 10.0.0.1\n        sourceNode: pve\n"
                    "        templateId: 9000\n        dnsServers: [10.0.0.1]",
             plane="      replicas: 1\n      instanceType:\n        cores: 4\n"
                   "        memoryGib: 0")
        .replace("        instanceType:\n          name: m7i-flex.large\n",
                 "        instanceType:\n          cores: 2\n"),
        ["<input>:24:9 spec.nodes.controlPlane.instanceType.memoryGib: expected a whole "
         "number of GiB, at least 1, got 0"],
        id="proxmox memory of 0 GiB"),
    pytest.param(
        _doc(config="      proxmox:\n        controlPlaneEndpoint: 10.0.0.100\n"
                    "        ipv4Pool:\n          range: 10.0.0.101-120/24\n"
                    "          gateway: 10.0.0.1\n        sourceNode: pve\n"
                    "        templateId: 9000\n        dnsServers: [10.0.0.1]\n"
                    "        pools:\n          gpu: {cores: 2}",
             plane="      replicas: 1")
        .replace("        instanceType:\n          name: m7i-flex.large\n", ""),
        ["<input>:20:11 spec.provider.config.proxmox.pools.gpu: no worker pool named 'gpu' in "
         "spec.nodes.workerPools: size an existing pool"],
        id="proxmox size of a pool that does not exist"),
]  # fmt: skip


@pytest.mark.parametrize(("text", "expected"), BAD)
def test_bad_original_documents_name_the_field_as_written(
    text: str, expected: list[str]
) -> None:
    result = load_text(text)
    assert [str(e) for e in result.errors] == expected


def test_canonical_output_reports_errors_on_stderr_and_exits_1(tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text(_doc(extra="  parentConfig:\n    host: 172.18.255.1\n"))
    result = CliRunner().invoke(app, ["validate", "-f", str(bad), "--canonical"])
    assert result.exit_code == 1
    assert result.stdout == ""
    assert f"{bad}:24:5 spec.parentConfig.host: parentConfig.host is not used" in result.stderr


def test_lattice_render_writes_the_seed_cluster_as_written(tmp_path: Path) -> None:
    result = CliRunner().invoke(app, ["render", "-f", str(SEED), "-o", str(tmp_path)])
    assert result.exit_code == 0, result.output
    names = sorted(p.name for p in tmp_path.iterdir())
    assert "capi-production_kubeadmcontrolplane_production-control-plane.yaml" in names
    assert "capi-production_machinedeployment_production-gpu.yaml" in names
