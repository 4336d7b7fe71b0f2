"""A LatticeService registers exactly the compiler's objects, as its children, and resolves."""

from __future__ import annotations

from typing import Any

import pulumi
import pulumi_kubernetes as k8s
import pytest

from lattice_pulumi.compile.context import CompileContext
from lattice_pulumi.compile.service import compile_service
from lattice_pulumi.components import TYPE_TOKEN, LatticeService, resources
from lattice_pulumi.spec.meta import Resource
from lattice_pulumi.spec.service import LatticeService as ServiceSpec
from tests.builders import service
from tests.components.harness import run_program
from tests.conftest import EXAMPLES

WEBAPP = ["api", "frontend", "postgres", "redis", "worker"]


def _deploy_webapp(context: CompileContext, found: dict[str, Any]) -> Any:
    provider = k8s.Provider("cluster", kubeconfig="unused")
    opts = pulumi.ResourceOptions(provider=provider)
    outputs = []
    for name in WEBAPP:
        component = LatticeService(
            name, EXAMPLES / "webapp" / f"{name}.yaml", opts, context=context
        )
        found[name] = component
        outputs.append(pulumi.Output.all(component.urn, component.object_names))
    return pulumi.Output.all(*outputs).apply(lambda values: found.setdefault("urns", values))


@pytest.mark.parametrize("name", WEBAPP)
def test_children_match_compiled_objects_one_to_one(
    name: str, webapp: list[Resource], webapp_context: CompileContext
) -> None:
    found: dict[str, Any] = {}
    monitor = run_program(lambda: _deploy_webapp(webapp_context, found))
    spec = next(r for r in webapp if isinstance(r, ServiceSpec) and r.name == name)
    expected = compile_service(spec, webapp_context)
    component = monitor.find(TYPE_TOKEN, name)
    children = monitor.children_of(component.urn)
    # Registrations are RPCs running concurrently: compare as sorted lists, not in order.
    assert sorted(
        (c.type, c.name, c.inputs["metadata"]["name"], c.inputs["metadata"].get("namespace"))
        for c in children
    ) == sorted(
        (
            resources.type_token(o["apiVersion"], o["kind"]),
            f"{name}-{o['metadata']['name']}",
            o["metadata"]["name"],
            o["metadata"].get("namespace"),
        )
        for o in expected
    )
    assert all(c.custom for c in children)


def test_children_carry_compiled_fields(
    webapp_context: CompileContext, webapp: list[Resource]
) -> None:
    found: dict[str, Any] = {}
    monitor = run_program(lambda: _deploy_webapp(webapp_context, found))
    spec = next(r for r in webapp if isinstance(r, ServiceSpec) and r.name == "api")
    expected = {o["kind"]: o for o in compile_service(spec, webapp_context)}
    deployment = monitor.find("kubernetes:apps/v1:Deployment", "api-api")
    container = deployment.inputs["spec"]["template"]["spec"]["containers"][0]
    assert container["image"] == "ghcr.io/example/webapp-api:1.0.0"
    assert deployment.inputs["spec"]["template"] == _numbers_as_floats(
        expected["Deployment"]["spec"]["template"]
    )
    policy = monitor.find("kubernetes:cilium.io/v2:CiliumNetworkPolicy", "api-api-mesh")
    assert policy.inputs["spec"] == _numbers_as_floats(expected["CiliumNetworkPolicy"]["spec"])


def test_outputs_resolve(webapp_context: CompileContext) -> None:
    found: dict[str, Any] = {}

    def program() -> Any:
        _deploy_webapp(webapp_context, found)
        api = found["api"]
        return pulumi.Output.all(
            api.namespace,
            api.service_name,
            api.service_account,
            api.host,
            api.port,
            api.url,
            api.object_names,
        ).apply(lambda values: found.setdefault("outputs", values))

    run_program(program)
    assert found["outputs"] == [
        "webapp",
        "api",
        "api",
        "api.webapp.svc.cluster.local",
        3000,
        "http://api.webapp.svc.cluster.local:3000",
        [
            "ServiceAccount/webapp/api",
            "ConfigMap/webapp/api-main-env",
            "ExternalSecret/webapp/api-db-credentials",
            "Deployment/webapp/api",
            "Service/webapp/api",
            "PodDisruptionBudget/webapp/api",
            "ScaledObject/webapp/api",
            "CiliumNetworkPolicy/webapp/api-mesh",
            "AuthorizationPolicy/webapp/api-mesh",
            "PeerAuthentication/webapp/api-mesh",
        ],
    ]


@pytest.mark.parametrize(
    "spec",
    [
        pytest.param(service(), id="a whole document as a dict"),
        pytest.param(service()["spec"], id="only the spec part as a dict"),
        pytest.param("examples/webapp/redis.yaml", id="a path given as text"),
    ],
)
def test_accepts_dicts_and_paths(spec: Any) -> None:
    found: dict[str, Any] = {}

    def program() -> Any:
        component = LatticeService("api", spec, allow_default_provider=True, namespace="shop")
        return component.object_names.apply(lambda names: found.setdefault("names", names))

    run_program(program)
    assert found["names"][0].startswith("ServiceAccount/")


def test_component_urn_has_lattice_type_token() -> None:
    monitor = run_program(lambda: LatticeService("api", service(), allow_default_provider=True).urn)
    component = monitor.find(TYPE_TOKEN, "api")
    assert component.urn.endswith("$lattice:index:LatticeService::api")
    assert not component.custom


def _numbers_as_floats(value: Any) -> Any:
    """The mock monitor round-trips numbers through protobuf Struct, as doubles."""
    if isinstance(value, bool):
        return value
    if isinstance(value, int):
        return float(value)
    if isinstance(value, dict):
        return {k: _numbers_as_floats(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_numbers_as_floats(v) for v in value]
    return value
