"""Compile-time rules: what a provider or node would reject later, with the field path."""

from __future__ import annotations

import pytest

from lattice_pulumi.compile.cluster import ClusterCompileContext, compile_cluster
from lattice_pulumi.errors import CompileError
from tests.unit.compile.cluster.helpers import PARENT, PARENT_CA, build, example, example_docs


@pytest.mark.parametrize(
    ("provider", "changes", "message"),
    [
        pytest.param(
            "docker",
            {"spec__nodes__workerPools__default__labels": {"node-role.kubernetes.io/gpu": ""}},
            'cluster dev spec.nodes.workerPools.default.labels."node-role.kubernetes.io/gpu": '
            "a kubelet may not set 'node-role.kubernetes.io/gpu' on its node (NodeRestriction); "
            "use a label outside kubernetes.io and k8s.io",
            id="kubelet cannot self-assign a node-role label",
        ),
        pytest.param(
            "docker",
            {"spec__nodes__workerPools__default__labels": {"lattice.dev/pool": "other"}},
            'cluster dev spec.nodes.workerPools.default.labels."lattice.dev/pool": '
            "'other' contradicts the pool name 'default'",
            id="pool label contradicts the pool",
        ),
        pytest.param(
            "aws",
            {"spec__nodes__controlPlane__rootVolume": {"size": 4}},
            "cluster production spec.nodes.controlPlane.rootVolume.size: "
            "4 GiB is below the aws provider's minimum of 8 GiB",
            id="aws root volume too small",
        ),
        pytest.param(
            "openstack",
            {"spec__provider__config__openstack__apiServerLoadBalancer": False},
            "cluster staging spec.provider.config.openstack.apiServerLoadBalancer: "
            "3 control-plane nodes need the API server load balancer; "
            "without it CAPO serves the API from one node's floating IP",
            id="openstack HA without load balancer",
        ),
        pytest.param(
            "docker",
            {"spec__nodes__workerPools": {"a" * 60: {"replicas": 1}}},
            f"cluster dev spec.nodes.workerPools.{'a' * 60}: 'dev-{'a' * 60}' is longer than "
            "the 63 characters of a Cluster API machine label; shorten the cluster or pool name",
            id="pool name too long for a label",
        ),
    ],
)
def test_rejects_with_path(provider: str, changes: dict[str, object], message: str) -> None:
    cluster, cloud = example(provider, **changes)
    with pytest.raises(CompileError) as raised:
        compile_cluster(cluster, cloud, PARENT)
    assert str(raised.value) == message


def test_rke2_on_aws_needs_an_ami() -> None:
    cluster_doc, cloud_doc = example_docs("aws")
    cluster_doc["spec"]["provider"]["kubernetes"]["bootstrap"] = "rke2"
    cluster, cloud = build(cluster_doc, cloud_doc)
    with pytest.raises(CompileError, match=r"spec\.provider\.config\.aws\.ami: RKE2 on AWS"):
        compile_cluster(cluster, cloud, PARENT)


def test_cloud_provider_must_be_the_one_referenced_and_of_the_right_type() -> None:
    cluster, _ = example("aws")
    _, other = example("openstack")
    with pytest.raises(CompileError) as raised:
        compile_cluster(cluster, other, PARENT)
    assert str(raised.value) == (
        "2 problems found:\n"
        "cluster production spec.providerRef: names CloudProvider 'aws' but 'openstack' "
        "was given\n"
        "cluster production spec.provider.config: the aws block needs a CloudProvider of "
        "type aws; 'openstack' has type openstack"
    )


def test_cluster_name_with_a_dot_cannot_name_a_namespace() -> None:
    cluster, cloud = example("docker", metadata__name="dev.example")
    with pytest.raises(CompileError, match=r"metadata\.name: 'dev\.example' cannot name"):
        compile_cluster(cluster, cloud, PARENT)


@pytest.mark.parametrize(
    ("endpoint", "fragment"),
    [
        pytest.param("http://cell:8443", "is not an https URL", id="plain http"),
        pytest.param("https://cell:8443/$(reboot)", "is not an https URL", id="shell in url"),
    ],
)
def test_parent_endpoint_is_a_plain_https_url(endpoint: str, fragment: str) -> None:
    cluster, cloud = example("docker")
    with pytest.raises(CompileError, match=fragment):
        compile_cluster(cluster, cloud, ClusterCompileContext(endpoint, PARENT_CA))


def test_without_a_parent_there_is_no_bootstrap_step() -> None:
    cluster, cloud = example("docker")
    objects = compile_cluster(cluster, cloud, ClusterCompileContext())
    (plane,) = [o for o in objects if o["kind"] == "KubeadmControlPlane"]
    assert "files" not in plane["spec"]["kubeadmConfigSpec"]
    assert "postKubeadmCommands" not in plane["spec"]["kubeadmConfigSpec"]
