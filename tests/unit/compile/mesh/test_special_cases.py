"""Cross-namespace, ``both``, external services, removed declarations and unknown callees."""

from __future__ import annotations

from typing import Any

import pytest

from lattice_pulumi.compile.context import CompileContext
from lattice_pulumi.compile.mesh import MeshMode, compile_service_mesh
from lattice_pulumi.spec.external import LatticeExternalService
from lattice_pulumi.spec.service import LatticeService
from tests.manifests import assert_valid
from tests.unit.compile.mesh import scenario
from tests.unit.compile.mesh.simulator import Cluster

Specs = list[LatticeService | LatticeExternalService]


def _decide(specs: Specs, caller: str, callee: str) -> bool:
    manifests, cluster = scenario.compile_world(specs)
    assert_valid(manifests)
    return cluster.allows(scenario.pod(caller), scenario.pod(callee), scenario.TARGET_PORT)


CASES = [
    pytest.param(
        [scenario.service("a/web", out=["b/api"]), scenario.service("b/api", inbound=["a/web"])],
        "a/web",
        "b/api",
        True,
        id="cross-namespace pair declared on both sides is allowed",
    ),
    pytest.param(
        [scenario.service("a/web", out=["api"]), scenario.service("b/api", inbound=["a/web"])],
        "a/web",
        "b/api",
        False,
        id="caller naming the callee without its namespace means its own namespace: denied",
    ),
    pytest.param(
        [scenario.service("a/web", out=["b/api"]), scenario.service("b/api", inbound=["web"])],
        "a/web",
        "b/api",
        False,
        id="callee naming the caller without its namespace means its own namespace: denied",
    ),
    pytest.param(
        [scenario.service("s/x", both=["y"]), scenario.service("s/y", both=["x"])],
        "s/x",
        "s/y",
        True,
        id="both on both sides allows x -> y",
    ),
    pytest.param(
        [scenario.service("s/x", both=["y"]), scenario.service("s/y", both=["x"])],
        "s/y",
        "s/x",
        True,
        id="both on both sides allows y -> x",
    ),
    pytest.param(
        [scenario.service("s/x", both=["y"]), scenario.service("s/y", inbound=["x"])],
        "s/y",
        "s/x",
        False,
        id="both on one side only: the other direction lacks the caller's outbound",
    ),
    pytest.param(
        [scenario.service("s/x", out=["y"]), scenario.service("s/y")],
        "s/x",
        "s/y",
        False,
        id="callee without inbound denies traffic",
    ),
    pytest.param(
        [scenario.service("s/x"), scenario.service("s/y", inbound=["x"])],
        "s/x",
        "s/y",
        False,
        id="caller without outbound denies traffic",
    ),
    pytest.param(
        [scenario.service("s/x", out=["o/y"]), scenario.service("o/y", any_caller=True)],
        "s/x",
        "o/y",
        True,
        id="wildcard callee in another namespace accepts a declared caller",
    ),
    pytest.param(
        [scenario.service("s/x"), scenario.service("s/y", any_caller=True)],
        "s/x",
        "s/y",
        False,
        id="wildcard callee still needs the caller's outbound",
    ),
]


@pytest.mark.parametrize(("specs", "caller", "callee", "allowed"), CASES)
def test_pair(specs: Specs, caller: str, callee: str, allowed: bool) -> None:
    assert _decide(specs, caller, callee) is allowed


@pytest.mark.parametrize("side", ["caller", "callee"])
def test_removing_one_declaration_stops_traffic_without_recompiling_the_other(side: str) -> None:
    web = scenario.service("s/web", out=["api"])
    api = scenario.service("s/api", inbound=["web"])
    before, _ = scenario.compile_world([web, api])
    if side == "caller":
        changed = scenario.service("s/web")
        kept = [o for o in before if o["metadata"].get("labels", {}).get(_SVC) != "web"]
        context = CompileContext.of([changed, api])
        after = kept + compile_service_mesh(changed, context)
    else:
        changed = scenario.service("s/api")
        kept = [o for o in before if o["metadata"].get("labels", {}).get(_SVC) != "api"]
        context = CompileContext.of([web, changed])
        after = kept + compile_service_mesh(changed, context)
    cluster = Cluster(after)
    assert not cluster.allows(scenario.pod("s/web"), scenario.pod("s/api"), scenario.TARGET_PORT)


_SVC = "lattice.dev/service"


def _kinds(objects: list[dict[str, Any]], kind: str) -> list[dict[str, Any]]:
    return [o for o in objects if o["kind"] == kind]


def test_external_service_reachable_only_by_allowed_requesters() -> None:
    stripe = scenario.external("pay/stripe", {"api": "https://api.stripe.com"}, ["shop/web"])
    web = scenario.service("shop/web", externals=["pay/stripe"])
    spy = scenario.service("shop/spy", externals=["pay/stripe"])
    manifests, cluster = scenario.compile_world([stripe, web, spy])
    assert_valid(manifests)
    assert cluster.allows_external(scenario.pod("shop/web"), "api.stripe.com", 443)
    assert not cluster.allows_external(scenario.pod("shop/spy"), "api.stripe.com", 443)
    (entry,) = _kinds(manifests, "ServiceEntry")
    assert entry["spec"] == {
        "exportTo": ["pay", "shop"],
        "hosts": ["api.stripe.com"],
        "location": "MESH_EXTERNAL",
        "ports": [{"name": "tls-443", "number": 443, "protocol": "TLS"}],
        "resolution": "DNS",
    }
    spy_policy = next(
        o for o in _kinds(manifests, "CiliumNetworkPolicy") if o["metadata"]["name"] == "spy-mesh"
    )
    assert "pay/stripe does not allow shop/spy" in spy_policy["spec"]["description"]


def test_external_name_requester_means_the_external_namespace() -> None:
    db = scenario.external("data/pg", {"main": "postgres://10.0.0.5"}, ["etl"])
    etl = scenario.service("data/etl", externals=["pg"])
    manifests, _ = scenario.compile_world([db, etl])
    (policy,) = [o for o in _kinds(manifests, "CiliumNetworkPolicy") if "etl" in str(o)]
    assert {
        "toCIDR": ["10.0.0.5/32"],
        "toPorts": [{"ports": [{"port": "5432", "protocol": "TCP"}]}],
    } in policy["spec"]["egress"]


def test_unknown_callee_gets_egress_on_any_port_and_a_note() -> None:
    web = scenario.service("s/web", out=["elsewhere/api"])
    (policy, *_) = compile_service_mesh(web, CompileContext.of([web]))
    rules = policy["spec"]["egress"]
    identity = {"k8s:io.kubernetes.pod.namespace": "elsewhere", "lattice.dev/service": "api"}
    assert {"toEndpoints": [{"matchLabels": identity}]} in rules
    assert (
        "elsewhere/api is unknown here: egress to it on any port" in policy["spec"]["description"]
    )


def test_service_nobody_may_call_gets_an_allow_policy_without_rules() -> None:
    lonely = scenario.service("s/lonely")
    _, authz, peer = compile_service_mesh(lonely, CompileContext.of([lonely]))
    assert authz["spec"] == {
        "action": "ALLOW",
        "selector": {
            "matchLabels": {"lattice.dev/service": "lonely"}
        },
    }
    assert peer["spec"]["mtls"] == {"mode": "STRICT"}
    cluster = Cluster([authz])
    assert not cluster.istio_allows(scenario.pod("s/any"), scenario.pod("s/lonely"), 8080)


def test_port_narrowing_on_inbound_limits_the_callers_ports() -> None:
    api = LatticeService.model_validate(
        {
            "apiVersion": "lattice.dev/v1alpha1",
            "kind": "LatticeService",
            "metadata": {"name": "api", "namespace": "s"},
            "spec": {
                "containers": {"main": {"image": "ghcr.io/example/app:1.0"}},
                "service": {"ports": {"http": {"port": 80}, "admin": {"port": 9000}}},
                "resources": {
                    "web": {
                        "type": "service",
                        "direction": "inbound",
                        "params": {"ports": ["http"]},
                    },
                    "ops": {"type": "service", "direction": "inbound"},
                },
            },
        }
    )
    objects = compile_service_mesh(api, CompileContext.of([api]))
    assert_valid(objects)
    cluster = Cluster(objects)
    web, ops, dst = scenario.pod("s/web"), scenario.pod("s/ops"), scenario.pod("s/api")
    assert cluster.istio_allows(web, dst, 80) and not cluster.istio_allows(web, dst, 9000)
    assert cluster.istio_allows(ops, dst, 9000)


def test_sidecar_mode_uses_target_ports_and_istiod() -> None:
    web = scenario.service("s/web", out=["api"])
    api = scenario.service("s/api", inbound=["web"])
    context = CompileContext.of([web, api])
    objects = [
        *compile_service_mesh(web, context, MeshMode.SIDECAR),
        *compile_service_mesh(api, context, MeshMode.SIDECAR),
    ]
    assert_valid(objects)
    cluster = Cluster(objects, ambient=False)
    assert cluster.allows(scenario.pod("s/web"), scenario.pod("s/api"), scenario.TARGET_PORT)
    assert "15008" not in str(objects)
    assert "istiod" in str(objects[0]["spec"]["egress"])


def test_inputs_are_not_mutated() -> None:
    web = scenario.service("s/web", out=["api"])
    before = web.model_dump()
    compile_service_mesh(web, CompileContext.of([web]))
    assert web.model_dump() == before
