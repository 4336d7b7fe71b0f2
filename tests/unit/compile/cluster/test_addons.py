"""The add-on plan per switch, and the Lattice-owned in-cluster manifests."""

from __future__ import annotations

import pytest

from lattice_pulumi.compile.cluster import build_cluster_manifests, plan_addons
from lattice_pulumi.compile.cluster.addons import CATALOGUE
from tests.manifests import assert_valid
from tests.unit.compile.cluster.helpers import example

BASE = ["cilium", "cert-manager"]
MESH = ["gateway-api-crds", "istio-base", "istiod", "istio-cni", "ztunnel"]
ALL_OFF = {
    "spec__services": False,
    "spec__monitoring": {"enabled": False},
    "spec__backups": {"enabled": False},
    "spec__externalSecrets": {"enabled": False},
    "spec__gpu": {"enabled": False},
}


@pytest.mark.parametrize(
    ("changes", "expected"),
    [
        pytest.param({}, BASE, id="everything off"),
        pytest.param({"spec__services": True}, [*BASE, *MESH], id="services"),
        pytest.param(
            {"spec__monitoring": {"enabled": True}},
            [*BASE, "victoria-metrics-operator", "keda", "metrics-server"],
            id="monitoring",
        ),
        pytest.param({"spec__backups": {"enabled": True}}, [*BASE, "velero"], id="backups"),
        pytest.param(
            {"spec__externalSecrets": {"enabled": True}},
            [*BASE, "external-secrets"],
            id="external secrets",
        ),
        pytest.param({"spec__gpu": {"enabled": True}}, [*BASE, "gpu-operator", "hami"], id="gpu"),
        pytest.param(
            {"spec__nodes__workerPools__default": {"min": 1, "max": 3}},
            [*BASE, "cluster-autoscaler"],
            id="an autoscaled pool",
        ),
    ],
)
def test_each_switch_adds_its_addons(changes: dict[str, object], expected: list[str]) -> None:
    cluster, _ = example("docker", **{**ALL_OFF, **changes})
    assert [addon.name for addon in plan_addons(cluster)] == expected


def test_cloud_providers_add_their_cloud_controller_manager() -> None:
    aws, _ = example("aws", **{**ALL_OFF, "spec__gpu": {"enabled": True}})
    openstack, _ = example("openstack", **ALL_OFF)
    assert "aws-cloud-controller-manager" in [a.name for a in plan_addons(aws)]
    assert "openstack-cloud-controller-manager" in [a.name for a in plan_addons(openstack)]


def test_every_addon_is_pinned_in_the_catalogue() -> None:
    cluster, _ = example("aws")
    for addon in plan_addons(cluster):
        assert addon.version, addon.name
        if addon.name != "cluster-autoscaler":
            assert CATALOGUE[addon.name][2] == addon.version
    autoscaler = plan_addons(cluster)[-1]
    assert (autoscaler.name, autoscaler.is_chart, autoscaler.version) == (
        "cluster-autoscaler",
        False,
        "v1.32.0",
    )
    assert autoscaler.reason == "autoscaled pools: gpu (2..8); Lattice renders it"


@pytest.mark.parametrize("provider", ["aws", "openstack", "proxmox", "docker"])
def test_cluster_manifests_validate(provider: str) -> None:
    cluster, _ = example(provider)
    assert_valid(build_cluster_manifests(cluster))


def test_namespaces_carry_pod_security_levels() -> None:
    cluster, _ = example("aws")
    namespaces = {
        o["metadata"]["name"]: o["metadata"]["labels"]["pod-security.kubernetes.io/enforce"]
        for o in build_cluster_manifests(cluster)
        if o["kind"] == "Namespace"
    }
    assert namespaces == {
        "cert-manager": "restricted",
        "external-secrets": "restricted",
        "gpu-operator": "privileged",
        "istio-system": "privileged",
        "keda": "restricted",
        "lattice-system": "restricted",
        "monitoring": "privileged",
        "velero": "privileged",
    }


def test_mesh_baseline_only_with_services() -> None:
    with_services, _ = example("docker")
    without, _ = example("docker", spec__services=False)
    kinds = [o["kind"] for o in build_cluster_manifests(with_services)]
    assert "CiliumClusterwideNetworkPolicy" in kinds
    assert "PeerAuthentication" in kinds
    names = [(o["kind"], o["metadata"]["name"]) for o in build_cluster_manifests(without)]
    assert names == [("Namespace", "cert-manager"), ("Namespace", "lattice-system")]
