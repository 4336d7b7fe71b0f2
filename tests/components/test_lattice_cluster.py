"""LatticeCluster under mocks: CAPI objects on the parent, CRDs and manifests on the new cluster."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

import pulumi
import pulumi_kubernetes as k8s
import pytest

from lattice_pulumi.compile.cluster import build_cluster_manifests, compile_cluster
from lattice_pulumi.compile.context import ClusterInfo
from lattice_pulumi.components import (
    CLUSTER_TYPE_TOKEN,
    TYPE_TOKEN,
    ClusterTarget,
    LatticeCluster,
    LatticeService,
    ProviderRequired,
)
from lattice_pulumi.components.lattice_cluster import PROVISIONED, WAIT_FOR
from lattice_pulumi.errors import CompileError
from lattice_pulumi.spec.cluster import LatticeCluster as ClusterSpec
from lattice_pulumi.spec.crds import build_crds
from lattice_pulumi.spec.providers import CloudProvider
from tests.builders import service
from tests.components.harness import (
    KUBECONFIG,
    SERVER,
    ClusterMocks,
    RecordingMonitor,
    Registration,
    run_program,
)
from tests.conftest import EXAMPLES
from tests.unit.compile.cluster.helpers import PARENT, example, example_docs

AWS_ENV = {"AWS_ACCESS_KEY_ID": "AKIDEXAMPLE", "AWS_SECRET_ACCESS_KEY": "very-secret-value"}


@dataclass
class Run:
    monitor: RecordingMonitor
    mocks: ClusterMocks
    found: dict[str, Any]

    @property
    def component(self) -> Registration:
        return next(r for r in self.monitor.registrations if r.type == CLUSTER_TYPE_TOKEN)

    def provider_ref(self, name: str) -> str:
        reg = self.monitor.find("pulumi:providers:kubernetes", name)
        return f"{reg.urn}::{name}-id"

    def children(self, provider: str) -> list[Registration]:
        return [
            r
            for r in self.monitor.children_of(self.component.urn)
            if r.custom and r.provider == self.provider_ref(provider)
        ]


def _deploy(provider: str = "docker", **kwargs: Any) -> Run:
    cluster, cloud = example(provider)
    found: dict[str, Any] = {}
    mocks = ClusterMocks()

    def program() -> Any:
        parent = k8s.Provider("mgmt", kubeconfig="unused")
        made = LatticeCluster(
            "lc", cluster, cloud_provider=cloud, parent_provider=parent, context=PARENT, **kwargs
        )
        found["component"] = made
        return pulumi.Output.all(made.kubeconfig, made.endpoint).apply(
            lambda values: found.update(kubeconfig=values[0], endpoint=values[1])
        )

    monitor = run_program(program, mocks=mocks)
    return Run(monitor, mocks, found)


def _key(obj: dict[str, Any]) -> tuple[str, str, str, str]:
    meta = obj["metadata"]
    return obj["apiVersion"], obj["kind"], meta.get("namespace", ""), meta["name"]


@pytest.mark.parametrize("provider", ["docker", "aws", "openstack", "proxmox"])
def test_capi_children_match_compile_cluster_one_to_one(provider: str) -> None:
    run = _deploy(provider)
    cluster, cloud = example(provider)
    expected = {_key(o): o for o in compile_cluster(cluster, cloud, PARENT)}
    children = run.children("mgmt")
    got = {_key(c.inputs): c for c in children}
    assert len(children) == len(expected)
    assert got.keys() == expected.keys()
    for key, obj in expected.items():
        inputs = got[key].inputs
        assert inputs.get("spec") == obj.get("spec"), key
        assert inputs["metadata"]["labels"] == obj["metadata"]["labels"], key
        assert got[key].parent == run.component.urn


def test_the_cluster_waits_until_provisioned_after_every_other_object() -> None:
    run = _deploy()
    children = run.children("mgmt")
    (cluster,) = [c for c in children if c.inputs["kind"] == "Cluster"]
    annotations = cluster.inputs["metadata"]["annotations"]
    assert json.loads(annotations[WAIT_FOR]) == list(PROVISIONED)
    assert annotations[WAIT_FOR] == (
        '["jsonpath={.status.phase}=Provisioned", '
        '"jsonpath={.status.initialization.controlPlaneInitialized}=true"]'
    )
    assert cluster.dependencies == {c.urn for c in children if c is not cluster}
    namespace = next(c for c in children if c.inputs["kind"] == "Namespace")
    assert all(namespace.urn in c.dependencies for c in children if c is not namespace)


def test_kubeconfig_is_read_after_the_cluster_and_kept_secret() -> None:
    run = _deploy()
    assert run.mocks.reads == [
        ("lc-kubeconfig", "capi-dev/dev-kubeconfig", run.provider_ref("mgmt"))
    ]
    assert run.found["kubeconfig"] == KUBECONFIG
    assert run.found["endpoint"] == SERVER
    provider = run.monitor.find("pulumi:providers:kubernetes", "lc-kubernetes")
    assert provider.parent == run.component.urn
    assert "kubeconfig" in provider.secret_properties
    assert provider.inputs["clusterIdentifier"] == "lattice-cluster-dev"


def test_kubeconfig_output_is_secret() -> None:
    seen: dict[str, bool] = {}

    def program() -> Any:
        cluster, cloud = example("docker")
        parent = k8s.Provider("mgmt", kubeconfig="unused")
        made = LatticeCluster("lc", cluster, cloud_provider=cloud, parent_provider=parent)

        async def check() -> None:
            seen["kubeconfig"] = await made.kubeconfig.is_secret()
            seen["endpoint"] = await made.endpoint.is_secret()

        return pulumi.Output.from_input(check())

    run_program(program, mocks=ClusterMocks())
    assert seen == {"kubeconfig": True, "endpoint": False}


def test_an_empty_kubeconfig_never_reaches_the_provider() -> None:
    def program() -> Any:
        cluster, cloud = example("docker")
        parent = k8s.Provider("mgmt", kubeconfig="unused")
        return LatticeCluster(
            "lc", cluster, cloud_provider=cloud, parent_provider=parent
        ).kubeconfig

    with pytest.raises(CompileError, match="capi-dev/dev-kubeconfig holds no kubeconfig"):
        run_program(program, mocks=ClusterMocks(kubeconfig=""))


@pytest.mark.parametrize("provider", ["docker", "aws"])
def test_crds_and_cluster_manifests_go_through_the_new_clusters_provider(provider: str) -> None:
    run = _deploy(provider)
    cluster, _ = example(provider)
    expected = [_key(o) for o in [*build_crds(), *build_cluster_manifests(cluster)]]
    inside = run.children("lc-kubernetes")
    assert sorted(_key(c.inputs) for c in inside) == sorted(expected)
    crds = [
        c for c in inside if c.type == "kubernetes:apiextensions.k8s.io/v1:CustomResourceDefinition"
    ]
    assert len(crds) == len(build_crds())
    assert not {_key(c.inputs) for c in run.children("mgmt")} & set(expected)


def test_only_autoscaled_pools_ignore_replicas() -> None:
    run = _deploy("aws")
    deployments = {
        c.inputs["metadata"]["name"]: c
        for c in run.children("mgmt")
        if c.inputs["kind"] == "MachineDeployment"
    }
    assert deployments["production-gpu"].ignore_changes == ("spec.replicas",)
    assert deployments["production-general"].ignore_changes == ()


def test_a_service_deploys_into_the_cluster_with_its_facts() -> None:
    found: dict[str, Any] = {}
    variables = {"CLUSTER": "${cluster.name}-${cluster.provider}"}
    spec = service(
        containers={"main": {"image": "ghcr.io/example/api:1.0", "variables": variables}}
    )

    def program() -> Any:
        cluster, cloud = example("docker")
        parent = k8s.Provider("mgmt", kubeconfig="unused")
        made = LatticeCluster("lc", cluster, cloud_provider=cloud, parent_provider=parent)
        found["cluster"] = made
        return LatticeService("api", spec, cluster=made).urn

    run = Run(run_program(program, mocks=ClusterMocks()), ClusterMocks(), found)
    made = found["cluster"]
    assert isinstance(made, ClusterTarget)
    assert made.cluster_info == ClusterInfo.from_cluster(example("docker")[0])
    api = run.monitor.find(TYPE_TOKEN, "api")
    children = run.monitor.children_of(api.urn)
    assert {c.provider for c in children} == {run.provider_ref("lc-kubernetes")}
    env = next(c for c in children if c.type == "kubernetes:core/v1:ConfigMap")
    assert env.inputs["data"]["CLUSTER"] == "dev-docker"


def test_a_missing_parent_provider_is_refused() -> None:
    def program() -> Any:
        cluster, cloud = example("docker")
        return LatticeCluster("lc", cluster, cloud_provider=cloud).urn

    with pytest.raises(ProviderRequired) as caught:
        run_program(program, mocks=ClusterMocks())
    assert str(caught.value) == (
        "LatticeCluster 'lc': parent_provider must be a Kubernetes provider reaching the "
        "management (or bootstrap) cluster, such as kubernetes.Provider(..., kubeconfig=...); "
        "the ambient kubeconfig is never used to create clusters"
    )


def test_credentials_from_env_are_a_pulumi_secret(monkeypatch: pytest.MonkeyPatch) -> None:
    for variable, value in AWS_ENV.items():
        monkeypatch.setenv(variable, value)
    run = _deploy("aws", credentials_from_env=True)
    secret = run.monitor.find("kubernetes:core/v1:Secret", "lc-capa-system-aws-credentials")
    assert secret.provider == run.provider_ref("mgmt")
    assert "stringData" in secret.secret_properties
    assert secret.inputs["stringData"]["SecretAccessKey"] == "very-secret-value"
    others = [c for c in run.children("mgmt") if c is not secret]
    for other in others:
        if other.inputs["kind"] != "Namespace":
            assert secret.urn in other.dependencies
        assert "very-secret-value" not in json.dumps(other.inputs)


def test_no_credentials_secret_unless_asked() -> None:
    run = _deploy("aws")
    assert not [c for c in run.children("mgmt") if c.inputs["kind"] == "Secret"]


def test_spec_and_cloud_provider_from_one_yaml_file() -> None:
    found: dict[str, Any] = {}

    def program() -> Any:
        parent = k8s.Provider("mgmt", kubeconfig="unused")
        made = LatticeCluster(
            "dev", EXAMPLES / "clusters" / "docker-dev.yaml", parent_provider=parent
        )
        found["made"] = made
        return made.urn

    run_program(program, mocks=ClusterMocks())
    assert isinstance(found["made"].model, ClusterSpec)
    assert isinstance(found["made"].cloud_provider, CloudProvider)
    assert found["made"].cloud_provider.name == "docker"


def test_spec_parts_as_dicts() -> None:
    cluster_doc, cloud_doc = example_docs("docker")
    found: dict[str, Any] = {}

    def program() -> Any:
        parent = k8s.Provider("mgmt", kubeconfig="unused")
        made = LatticeCluster(
            "edge", cluster_doc["spec"], cloud_provider=cloud_doc["spec"], parent_provider=parent
        )
        found["made"] = made
        return made.urn

    run_program(program, mocks=ClusterMocks())
    assert found["made"].model.name == "edge"
    assert found["made"].cloud_provider.name == "docker"
    assert found["made"].cloud_provider.namespace == "lattice-system"


def test_a_missing_cloud_provider_is_named() -> None:
    cluster_doc, _ = example_docs("docker")

    def program() -> Any:
        parent = k8s.Provider("mgmt", kubeconfig="unused")
        return LatticeCluster("dev", cluster_doc, parent_provider=parent).urn

    with pytest.raises(CompileError, match="no CloudProvider 'docker': pass cloud_provider="):
        run_program(program, mocks=ClusterMocks())


def test_outputs_in_a_cluster_spec_are_refused() -> None:
    cluster_doc, cloud_doc = example_docs("docker")

    def program() -> Any:
        parent = k8s.Provider("mgmt", kubeconfig="unused")
        spec = {**cluster_doc["spec"], "providerRef": pulumi.Output.from_input("docker")}
        return LatticeCluster("dev", spec, cloud_provider=cloud_doc, parent_provider=parent).urn

    with pytest.raises(CompileError, match="LatticeCluster spec must be plain data"):
        run_program(program, mocks=ClusterMocks())


def test_with_pivot_from_the_objects_move_after_everything_is_up() -> None:
    run = _deploy(pivot_from="parent kubeconfig")
    (pivot,) = [r for r in run.monitor.registrations if r.name == "lc-pivot"]
    assert pivot.type == "pulumi-python:dynamic:Resource"
    assert pivot.parent == run.component.urn
    assert {"source_kubeconfig", "target_kubeconfig"} <= pivot.secret_properties
    assert (pivot.inputs["cluster"], pivot.inputs["namespace"]) == ("dev", "capi-dev")
    cluster = next(c for c in run.children("mgmt") if c.inputs["kind"] == "Cluster")
    in_cluster = {c.urn for c in run.children("lc-kubernetes")}
    assert {cluster.urn, *in_cluster} <= pivot.dependencies and in_cluster


def test_no_pivot_unless_asked() -> None:
    run = _deploy()
    assert not [r for r in run.monitor.registrations if r.name == "lc-pivot"]
