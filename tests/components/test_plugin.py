"""The component provider plugin loads: schema inferred without an engine, construct works."""

from __future__ import annotations

import importlib.util
import json
import sys
from types import ModuleType
from typing import Any

import pulumi
import pulumi_kubernetes as k8s
import pytest
from pulumi.provider.experimental.component import ComponentProvider
from ruamel.yaml import YAML

from lattice_pulumi.components import CLUSTER_TYPE_TOKEN, TYPE_TOKEN, ProviderRequired
from lattice_pulumi.errors import CompileError
from tests.builders import service
from tests.components.harness import ClusterMocks, run_program
from tests.conftest import EXAMPLES, ROOT

PLUGIN = ROOT / "components"


@pytest.fixture(scope="module")
def entry() -> ModuleType:
    spec = importlib.util.spec_from_file_location(
        "lattice_component_plugin", PLUGIN / "__main__.py"
    )
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


def test_plugin_runtime_is_python() -> None:
    assert YAML(typ="safe").load(PLUGIN / "PulumiPlugin.yaml") == {"runtime": "python"}


def test_schema_is_inferred_from_type_hints(entry: ModuleType) -> None:
    provider = ComponentProvider(entry.COMPONENTS, entry.PROVIDER_NAME)
    assert provider.schema is not None
    schema = json.loads(provider.schema)
    resource = schema["resources"][TYPE_TOKEN]
    assert resource["isComponent"] is True
    assert sorted(resource["inputProperties"]) == [
        "allowDefaultProvider",
        "namespace",
        "skipAwait",
        "spec",
        "specYaml",
    ]
    assert resource["inputProperties"]["spec"]["additionalProperties"] == {
        "description": "The LatticeService document (or its spec part); values may be Outputs.",
        "$ref": "pulumi.json#/Any",
    }
    assert sorted(resource["properties"]) == [
        "host",
        "namespace",
        "objectNames",
        "port",
        "serviceAccount",
        "serviceName",
        "url",
    ]


def test_construct_builds_the_component(entry: ModuleType) -> None:
    provider = ComponentProvider(entry.COMPONENTS, entry.PROVIDER_NAME)
    found: dict[str, Any] = {}

    def program() -> Any:
        inputs = {"spec": service(), "allowDefaultProvider": True}
        result = provider.construct("api", TYPE_TOKEN, inputs, pulumi.ResourceOptions())
        found["state"] = result.state
        return result.urn

    monitor = run_program(program)
    component = monitor.find(TYPE_TOKEN, "api")
    kinds = sorted(r.type.rsplit(":", 1)[-1] for r in monitor.children_of(component.urn))
    assert "Deployment" in kinds
    assert "url" in found["state"]


def test_spec_and_yaml_are_exclusive(entry: ModuleType) -> None:
    def program() -> Any:
        args = {"spec": service(), "spec_yaml": "x", "allow_default_provider": True}
        return entry.LatticeService("api", args).urn

    with pytest.raises(CompileError, match="give exactly one of spec and specYaml"):
        run_program(program)


def test_cluster_schema_is_inferred_from_type_hints(entry: ModuleType) -> None:
    provider = ComponentProvider(entry.COMPONENTS, entry.PROVIDER_NAME)
    assert provider.schema is not None
    resource = json.loads(provider.schema)["resources"][CLUSTER_TYPE_TOKEN]
    assert resource["isComponent"] is True
    assert sorted(resource["inputProperties"]) == [
        "bootstrapEndpoint",
        "cloudProvider",
        "cloudProviderYaml",
        "credentialsFromEnv",
        "parentCaPem",
        "spec",
        "specYaml",
        "tokenSecret",
    ]
    assert sorted(resource["properties"]) == [
        "capiNamespace",
        "clusterName",
        "endpoint",
        "kubeconfig",
        "objectNames",
    ]


def test_construct_builds_a_cluster_on_the_callers_provider(entry: ModuleType) -> None:
    provider = ComponentProvider(entry.COMPONENTS, entry.PROVIDER_NAME)
    text = (EXAMPLES / "clusters" / "docker-dev.yaml").read_text()
    found: dict[str, Any] = {}

    def program() -> Any:
        parent = k8s.Provider("mgmt", kubeconfig="unused")
        options = pulumi.ResourceOptions(providers={"kubernetes": parent})
        result = provider.construct("dev", CLUSTER_TYPE_TOKEN, {"specYaml": text}, options)
        found["state"] = result.state
        return result.urn

    monitor = run_program(program, mocks=ClusterMocks())
    component = monitor.find(CLUSTER_TYPE_TOKEN, "dev")
    mgmt = monitor.find("pulumi:providers:kubernetes", "mgmt")
    kinds = {
        r.inputs["kind"]
        for r in monitor.children_of(component.urn)
        if r.provider == f"{mgmt.urn}::mgmt-id"
    }
    assert {"Cluster", "KubeadmControlPlane", "MachineDeployment"} <= kinds
    assert {"kubeconfig", "endpoint"} <= set(found["state"])


def test_cluster_needs_the_callers_kubernetes_provider(entry: ModuleType) -> None:
    text = (EXAMPLES / "clusters" / "docker-dev.yaml").read_text()

    def program() -> Any:
        return entry.LatticeCluster("dev", {"spec_yaml": text}).urn

    with pytest.raises(ProviderRequired, match="parent_provider must be a Kubernetes provider"):
        run_program(program, mocks=ClusterMocks())
