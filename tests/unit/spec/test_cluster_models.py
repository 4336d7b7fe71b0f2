"""LatticeCluster: which documents validate, and the exact message and path of each refusal."""

from __future__ import annotations

import copy
from typing import Any

import pytest
from pydantic import ValidationError

from lattice_pulumi.errors import SpecError
from lattice_pulumi.spec.base import dump
from lattice_pulumi.spec.cluster import LatticeCluster

PROXMOX: dict[str, Any] = {
    "sourceNode": "pve1",
    "templateId": 9000,
    "controlPlaneEndpoint": "10.10.0.10",
    "ipv4Pool": {"addresses": ["10.10.0.20-10.10.0.29"], "prefix": 24, "gateway": "10.10.0.1"},
    "dnsServers": ["10.10.0.1"],
}
OPENSTACK: dict[str, Any] = {
    "externalNetworkId": "0d8e2a3c-5f4b-4c1e-9a7d-2b6f8e1c3a90",
    "imageName": "ubuntu-2204-kube-v1.32.0",
    "flavor": {"controlPlane": "m1.large", "worker": "m1.xlarge"},
}
NETWORK_ID = "11111111-2222-4333-8444-555555555555"


def cluster(**spec: Any) -> dict[str, Any]:
    """A minimal valid AWS cluster; keyword arguments replace spec fields."""
    doc: dict[str, Any] = {
        "apiVersion": "lattice.dev/v1alpha1",
        "kind": "LatticeCluster",
        "metadata": {"name": "prod"},
        "spec": {
            "providerRef": "aws",
            "provider": {
                "kubernetes": {"version": "1.32.0"},
                "config": {"aws": {"region": "us-west-2"}},
            },
            "nodes": {
                "controlPlane": {"replicas": 3, "instanceType": "m6i.xlarge"},
                "workerPools": {"general": {"replicas": 3, "instanceType": "m6i.large"}},
            },
        },
    }
    doc["spec"].update(copy.deepcopy(spec))
    return doc


def on(provider: str, block: dict[str, Any], **spec: Any) -> dict[str, Any]:
    """A cluster on another provider, with nodes that carry no instance types."""
    doc = cluster(**spec)
    doc["spec"]["provider"]["config"] = {provider: copy.deepcopy(block)}
    if "nodes" not in spec:
        doc["spec"]["nodes"] = {"controlPlane": {"replicas": 1},
                                "workerPools": {"general": {"replicas": 2}}}
    return doc


def set_in(doc: dict[str, Any], *path: str | int, value: Any) -> dict[str, Any]:
    """A copy of ``doc`` with ``value`` at ``path`` (keys may contain dots)."""
    out = copy.deepcopy(doc)
    node: Any = out
    for key in path[:-1]:
        node = node[int(key)] if isinstance(node, list) else node.setdefault(key, {})
    node[path[-1]] = value
    return out


def pool(**fields: Any) -> dict[str, Any]:
    return cluster(nodes={"controlPlane": {"replicas": 1, "instanceType": "m6i.large"},
                          "workerPools": {"p": {"instanceType": "m6i.large", **fields}}})


def errors_of(doc: dict[str, Any]) -> list[tuple[tuple[str | int, ...], str]]:
    with pytest.raises(ValidationError) as caught:
        LatticeCluster.model_validate(doc)
    return [(tuple(e["loc"]), e["msg"]) for e in caught.value.errors()]


def findings(doc: dict[str, Any]) -> list[tuple[tuple[str | int, ...], str, bool]]:
    return [(e.path, e.message, e.warning) for e in LatticeCluster.model_validate(doc).check()]


# ------------------------------------------------------------------------------ valid documents

VALID = [
    pytest.param(cluster(), id="minimal aws cluster"),
    pytest.param(on("docker", {}), id="docker with an empty block"),
    pytest.param(on("proxmox", PROXMOX), id="proxmox with a static pool"),
    pytest.param(on("openstack", OPENSTACK), id="openstack with managed subnets"),
    pytest.param(on("openstack", {**OPENSTACK, "managedSubnets": False, "networkId": NETWORK_ID,
                                  "subnetId": NETWORK_ID}), id="openstack on an existing network"),
    pytest.param(pool(min=1, max=5), id="autoscaled pool without replicas"),
    pytest.param(pool(min=1, max=5, replicas=5), id="replicas at the upper bound"),
    pytest.param(pool(replicas=0), id="pool scaled to zero"),
    pytest.param(set_in(cluster(), "spec", "provider", "kubernetes", "bootstrap", value="rke2"),
                 id="rke2 on aws"),
    pytest.param(cluster(networking={"podCidr": "fd00:10::/56", "serviceCidr": "fd00:20::/112"}),
                 id="ipv6 ranges"),
    pytest.param(set_in(cluster(), "spec", "provider", "config", "aws", "ami",
                        value={"lookupOrg": "258751437250", "lookupBaseOS": "ubuntu-24.04"}),
                 id="ami by lookup"),
    pytest.param(cluster(parentConfig={}), id="parent with default ports"),
    pytest.param(set_in(cluster(), "status", value={"phase": "Ready", "readyControlPlane": 3}),
                 id="with status"),
]


@pytest.mark.parametrize("doc", VALID)
def test_valid_cluster_validates_and_passes_checks(doc: dict[str, Any]) -> None:
    model = LatticeCluster.model_validate(doc)
    assert model.check() == []


def test_defaults_are_filled_and_dump_uses_wire_names() -> None:
    model = LatticeCluster.model_validate(
        set_in(on("proxmox", PROXMOX), "spec", "provider", "kubernetes", "certSANs",
               value=["api.example.com", "10.0.0.1"]))
    out = dump(model)
    assert out["spec"]["provider"]["kubernetes"] == {
        "version": "1.32.0", "bootstrap": "kubeadm", "certSANs": ["api.example.com", "10.0.0.1"],
        "fips": False}
    proxmox = out["spec"]["provider"]["config"]["proxmox"]
    assert (proxmox["memoryMiB"], proxmox["diskGiB"], proxmox["bridge"]) == (4096, 40, "vmbr0")
    assert out["spec"]["networking"] == {"podCidr": "10.244.0.0/16",
                                         "serviceCidr": "10.96.0.0/12"}
    assert LatticeCluster.model_validate(out) == model


def test_cluster_is_cluster_scoped() -> None:
    model = LatticeCluster.model_validate(cluster())
    assert not LatticeCluster.namespaced
    assert (model.namespace, model.spec.provider.config.type) == ("", "aws")


# ---------------------------------------------------------------------------- invalid documents

K8S = ("spec", "provider", "kubernetes")
CONFIG = ("spec", "provider", "config")
POOL = ("spec", "nodes", "workerPools", "p")


def aws(**fields: Any) -> dict[str, Any]:
    return set_in(cluster(), *CONFIG, "aws", value={"region": "us-west-2", **fields})


def proxmox(**fields: Any) -> dict[str, Any]:
    return on("proxmox", {**PROXMOX, **fields})


INVALID = [
    pytest.param(set_in(cluster(), *K8S, "version", value="latest"), (*K8S, "version"),
                 "Value error, 'latest' is not a Kubernetes version: expected X.Y.Z such as 1.32.0",
                 id="version latest"),
    pytest.param(set_in(cluster(), *K8S, "version", value="1.32"), (*K8S, "version"),
                 "Value error, '1.32' is not a Kubernetes version: expected X.Y.Z such as 1.32.0",
                 id="version without patch"),
    pytest.param(set_in(cluster(), *K8S, "bootstrap", value="k3s"), (*K8S, "bootstrap"),
                 "Input should be 'kubeadm' or 'rke2'", id="unknown bootstrap"),
    pytest.param(set_in(cluster(), *K8S, "certSANs", value=["ok.example.com", "bad_name"]),
                 (*K8S, "certSANs", 1), "Value error, 'bad_name' is not a DNS name or IP address",
                 id="bad cert SAN"),
    pytest.param(set_in(cluster(), *CONFIG, "docker", value={}), CONFIG,
                 "Value error, expected exactly one of aws, openstack, proxmox, docker; "
                 "got aws, docker", id="two provider blocks"),
    pytest.param(set_in(cluster(), *CONFIG, value={}), CONFIG,
                 "Value error, expected exactly one of aws, openstack, proxmox, docker; got none",
                 id="no provider block"),
    pytest.param(set_in(cluster(), "spec", "nodes", "controlPlane", "replicas", value=2),
                 ("spec", "nodes", "controlPlane", "replicas"),
                 "Value error, 2 control-plane replicas cannot keep etcd quorum: expected an odd "
                 "number such as 1, 3 or 5", id="even control plane"),
    pytest.param(set_in(cluster(), "spec", "nodes", "controlPlane", "replica", value=3),
                 ("spec", "nodes", "controlPlane", "replica"), "Extra inputs are not permitted",
                 id="misspelt field"),
    pytest.param(set_in(cluster(), "spec", "nodes", "workerPools", "GPU", value={"replicas": 1}),
                 ("spec", "nodes", "workerPools", "GPU", "[key]"),
                 "Value error, 'GPU' is not a DNS label: expected at most 63 lowercase letters, "
                 "digits and '-', starting and ending with a letter or digit",
                 id="pool name not a DNS label"),
    pytest.param(pool(min=1), POOL,
                 "Value error, min and max go together: set both to autoscale, or neither",
                 id="min without max"),
    pytest.param(pool(min=5, max=2), POOL, "Value error, min (5) must not exceed max (2)",
                 id="min above max"),
    pytest.param(pool(min=1, max=3, replicas=4), POOL,
                 "Value error, replicas (4) must lie within min..max (1..3)",
                 id="replicas outside bounds"),
    pytest.param(pool(), POOL,
                 "Value error, expected replicas, or min and max for an autoscaled pool",
                 id="pool without size"),
    pytest.param(pool(replicas=1, taints=[{"key": "gpu", "effect": "Never"}]),
                 (*POOL, "taints", 0, "effect"),
                 "Input should be 'NoSchedule', 'PreferNoSchedule' or 'NoExecute'",
                 id="bad taint effect"),
    pytest.param(pool(replicas=1, taints=[{"key": "gpu", "effect": "NoSchedule"},
                                          {"key": "gpu", "value": "x", "effect": "NoSchedule"}]),
                 POOL, "Value error, taint gpu:NoSchedule is listed more than once",
                 id="duplicate taint"),
    pytest.param(pool(replicas=1, labels={"bad key": "x"}), (*POOL, "labels", "bad key", "[key]"),
                 "Value error, 'bad key' is not a label key: expected [prefix/]name where the "
                 "optional prefix is a DNS subdomain and name is at most 63 letters, digits, '-', "
                 "'_' or '.'", id="bad label key"),
    pytest.param(cluster(networking={"podCidr": "10.244.1.0/16"}),
                 ("spec", "networking", "podCidr"),
                 "Value error, '10.244.1.0/16' has host bits set: expected the network address "
                 "10.244.0.0/16", id="pod CIDR with host bits"),
    pytest.param(cluster(parentConfig={"grpcPort": 8443}), ("spec", "parentConfig"),
                 "Value error, grpcPort and bootstrapPort are both 8443: expected three distinct "
                 "ports", id="parent ports collide"),
    pytest.param(cluster(parentConfig={"proxyPort": 70000}), ("spec", "parentConfig", "proxyPort"),
                 "Input should be less than or equal to 65535", id="port out of range"),
    pytest.param(cluster(monitoring={"enabled": False, "ha": True}), ("spec", "monitoring"),
                 "Value error, ha: true needs enabled: true", id="monitoring ha while disabled"),
    pytest.param(aws(ami={"id": "ami-0abcdef1234567890", "lookupOrg": "258751437250"}),
                 (*CONFIG, "aws", "ami"),
                 "Value error, set either id or the lookup fields (lookupOrg, lookupBaseOS, "
                 "lookupFormat), not both", id="ami id and lookup"),
    pytest.param(aws(vpcId="vpc-0abc1234def567890"), (*CONFIG, "aws"),
                 "Value error, vpcId and subnetIds go together: set both to bring your own "
                 "network, or neither to let Cluster API create one", id="vpc without subnets"),
    pytest.param(aws(loadBalancerType="alb"), (*CONFIG, "aws", "loadBalancerType"),
                 "Input should be 'nlb' or 'classic'", id="unsupported load balancer"),
    pytest.param(aws(region="Oregon"), (*CONFIG, "aws", "region"),
                 "Value error, 'Oregon' is not an AWS region: expected a value such as us-west-2",
                 id="bad aws region"),
    pytest.param(on("openstack", {**OPENSTACK, "managedSubnets": False}), (*CONFIG, "openstack"),
                 "Value error, managedSubnets: false needs networkId and subnetId of the existing "
                 "network", id="openstack unmanaged without ids"),
    pytest.param(on("openstack", {**OPENSTACK, "networkId": NETWORK_ID}), (*CONFIG, "openstack"),
                 "Value error, networkId and subnetId name an existing network: set "
                 "managedSubnets: false to use them", id="openstack ids with managed subnets"),
    pytest.param(proxmox(ipv4Pool={**PROXMOX["ipv4Pool"], "addresses": ["10.10.0.30-10.10.0.20"]}),
                 (*CONFIG, "proxmox", "ipv4Pool", "addresses", 0),
                 "Value error, '10.10.0.30-10.10.0.20' is not an IPv4 range or CIDR: expected "
                 "a.b.c.d-a.b.c.e (first <= last), a.b.c.0/24 or a single address",
                 id="backwards range"),
    pytest.param(proxmox(ipv4Pool={**PROXMOX["ipv4Pool"], "addresses": ["10.20.0.0/28"]}),
                 (*CONFIG, "proxmox", "ipv4Pool"),
                 "Value error, addresses entry '10.20.0.0/28' is outside the gateway's subnet "
                 "10.10.0.0/24", id="pool outside gateway subnet"),
    pytest.param(proxmox(controlPlaneEndpoint="10.10.0.25"), (*CONFIG, "proxmox"),
                 "Value error, controlPlaneEndpoint 10.10.0.25 is inside ipv4Pool.addresses: the "
                 "VIP must not be handed to a node", id="vip inside pool"),
    pytest.param(proxmox(memoryMiB=512), (*CONFIG, "proxmox", "memoryMiB"),
                 "Input should be greater than or equal to 1024", id="too little memory"),
    pytest.param(set_in(cluster(), "status", value={"phase": "Running"}), ("status", "phase"),
                 "Input should be 'Pending', 'Provisioning', 'Enrolling', 'Pivoting', 'Ready', "
                 "'Degraded', "
                 "'Failed' or 'Deleting'", id="unknown status phase"),
]


@pytest.mark.parametrize(("doc", "loc", "message"), INVALID)
def test_invalid_cluster_names_field_and_problem(
    doc: dict[str, Any], loc: tuple[str | int, ...], message: str
) -> None:
    assert errors_of(doc) == [(loc, message)]


def test_every_problem_is_reported_at_once() -> None:
    doc = set_in(cluster(networking={"serviceCidr": "10.96.0.0"}), *K8S, "version", value="v1")
    doc = set_in(doc, "spec", "nodes", "controlPlane", "replicas", value=4)
    assert errors_of(doc) == [
        ((*K8S, "version"),
         "Value error, 'v1' is not a Kubernetes version: expected X.Y.Z such as 1.32.0"),
        (("spec", "nodes", "controlPlane", "replicas"),
         "Value error, 4 control-plane replicas cannot keep etcd quorum: expected an odd number "
         "such as 1, 3 or 5"),
        (("spec", "networking", "serviceCidr"),
         "Value error, '10.96.0.0' is not a CIDR: expected an address and a prefix length such "
         "as 10.0.0.0/16"),
    ]


# ------------------------------------------------------------------------- cross-field checks

NET = ("spec", "networking")
CP = ("spec", "nodes", "controlPlane")
GENERAL = ("spec", "nodes", "workerPools", "general")

CHECKS = [
    pytest.param(cluster(networking={"podCidr": "10.96.0.0/16"}), [
        ((*NET, "serviceCidr"), "service CIDR 10.96.0.0/12 overlaps the pod CIDR 10.96.0.0/16 at "
         "spec.networking.podCidr; expected disjoint ranges", False),
    ], id="pod and service overlap"),
    pytest.param(cluster(networking={"nodeCidr": "10.244.128.0/24"}), [
        ((*NET, "nodeCidr"), "node CIDR 10.244.128.0/24 overlaps the pod CIDR 10.244.0.0/16 at "
         "spec.networking.podCidr; expected disjoint ranges", False),
    ], id="node range inside pod range"),
    pytest.param(on("openstack", {**OPENSTACK, "nodeCidr": "10.96.0.0/24"}), [
        ((*CONFIG, "openstack", "nodeCidr"), "node CIDR 10.96.0.0/24 overlaps the service CIDR "
         "10.96.0.0/12 at spec.networking.serviceCidr; expected disjoint ranges", False),
    ], id="openstack node range overlaps services"),
    pytest.param(on("openstack", OPENSTACK, networking={"nodeCidr": "10.7.0.0/24"}), [
        ((*CONFIG, "openstack", "nodeCidr"), "10.6.0.0/24 differs from 10.7.0.0/24 at "
         "spec.networking.nodeCidr; set the range in one place or make them equal", False),
    ], id="two different node ranges"),
    pytest.param(on("docker", {"lbCidr": "10.244.255.0/24"}), [
        ((*CONFIG, "docker", "lbCidr"), "load-balancer CIDR 10.244.255.0/24 overlaps the pod CIDR "
         "10.244.0.0/16 at spec.networking.podCidr; expected disjoint ranges", False),
    ], id="load-balancer range overlaps pods"),
    pytest.param(on("proxmox", PROXMOX, nodes={
        "controlPlane": {"replicas": 3},
        "workerPools": {"a": {"replicas": 2}, "b": {"min": 1, "max": 4}},
    }), [], id="proxmox pool exactly large enough"),
    pytest.param(on("proxmox", PROXMOX, nodes={
        "controlPlane": {"replicas": 3},
        "workerPools": {"a": {"replicas": 2}, "b": {"min": 1, "max": 5}},
    }), [
        ((*CONFIG, "proxmox", "ipv4Pool", "addresses"), "the pool has 10 usable addresses but the "
         "cluster needs 11: 3 control plane + 7 workers (autoscaled pools at max) + 1 spare for "
         "rolling upgrades", False),
    ], id="proxmox pool one address short"),
    pytest.param(set_in(cluster(), *CP, "instanceType", value=None), [
        ((*CP, "instanceType"), "instanceType is required with the aws provider (for example "
         "m6i.xlarge)", False),
    ], id="aws without instance type"),
    pytest.param(set_in(on("docker", {}), "spec", "nodes", "workerPools", "general",
                        value={"replicas": 1, "instanceType": "big", "rootVolume": {"size": 50}}), [
        ((*GENERAL, "instanceType"), "instanceType is not used by the docker provider", False),
        ((*GENERAL, "rootVolume"), "rootVolume is not used by the docker provider", False),
    ], id="docker with machine sizes"),
    pytest.param(set_in(on("proxmox", PROXMOX), *CP, value={
        "replicas": 1, "instanceType": "4c8g", "rootVolume": {"size": 50, "type": "ssd"}}), [
        ((*CP, "instanceType"), "instanceType is not used by the proxmox provider; size machines "
         "with spec.provider.config.proxmox cores, memoryMiB and diskGiB", False),
        ((*CP, "rootVolume", "type"), "the proxmox provider sets only the size of a root volume; "
         "remove type", False),
    ], id="proxmox with instance type and volume type"),
    pytest.param(set_in(cluster(), *CP, "rootVolume", value={"size": 50, "type": "ssd"}), [
        ((*CP, "rootVolume", "type"), "'ssd' is not an EBS volume type: expected one of gp2, gp3, "
         "io1, io2, st1, sc1, standard", False),
    ], id="aws volume type unknown"),
    pytest.param(set_in(cluster(), *GENERAL, "gpu", value=True), [
        ((*GENERAL, "gpu"), "gpu: true needs spec.gpu.enabled: true to install the GPU stack",
         False),
    ], id="gpu pool without gpu feature"),
    pytest.param(cluster(gpu={"enabled": True}), [
        (("spec", "gpu", "enabled"), "gpu.enabled installs the GPU stack but no worker pool has "
         "gpu: true", True),
    ], id="gpu feature without gpu pool warns"),
]


@pytest.mark.parametrize(("doc", "expected"), CHECKS)
def test_checks_report_path_and_problem(
    doc: dict[str, Any], expected: list[tuple[tuple[str | int, ...], str, bool]]
) -> None:
    assert findings(doc) == expected


def test_checks_report_every_problem_at_once() -> None:
    doc = on("proxmox", {**PROXMOX, "ipv4Pool": {**PROXMOX["ipv4Pool"],
                                                  "addresses": ["10.10.0.20"]}},
             networking={"podCidr": "10.96.0.0/11"})
    doc = set_in(doc, "spec", "nodes", "workerPools", "general",
                 value={"replicas": 2, "gpu": True})
    errors = LatticeCluster.model_validate(doc).check()
    assert [str(e) for e in errors] == [
        "<input> spec.networking.serviceCidr: service CIDR 10.96.0.0/12 overlaps the pod CIDR "
        "10.96.0.0/11 at spec.networking.podCidr; expected disjoint ranges",
        "<input> spec.provider.config.proxmox.ipv4Pool.addresses: the pool has 1 usable addresses "
        "but the cluster needs 4: 1 control plane + 2 workers (autoscaled pools at max) + 1 spare "
        "for rolling upgrades",
        "<input> spec.nodes.workerPools.general.gpu: gpu: true needs spec.gpu.enabled: true to "
        "install the GPU stack",
    ]
    assert all(isinstance(e, SpecError) for e in errors)
