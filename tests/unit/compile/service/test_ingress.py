"""build_ingress: Gateway listeners, routes of both forms, certificates, gateway policies."""

from __future__ import annotations

from typing import Any

import pytest

from lattice_pulumi.compile.context import ClusterInfo, CompileContext
from lattice_pulumi.compile.labels import service_labels
from lattice_pulumi.compile.service import ingress
from lattice_pulumi.errors import CompileError
from lattice_pulumi.spec.loader import load_text
from lattice_pulumi.spec.service import LatticeService
from tests.builders import service, to_yaml
from tests.conftest import EXAMPLES
from tests.manifests import assert_valid

CONTEXT = CompileContext()
AUTO_TLS = {"mode": "auto", "issuerRef": {"name": "letsencrypt"}}
TWO_PORTS = {"ports": {"http": {"port": 80, "targetPort": 8080}, "grpc": {"port": 9090}}}


def load(doc: dict[str, Any]) -> LatticeService:
    result = load_text(to_yaml(doc))
    assert result.errors == []
    (svc,) = result.resources
    assert isinstance(svc, LatticeService)
    return svc


def seed() -> LatticeService:
    (svc,) = load_text((EXAMPLES / "services" / "api-gateway.yaml").read_text()).resources
    assert isinstance(svc, LatticeService)
    return svc


def by_kind(objects: list[dict[str, Any]], kind: str) -> list[dict[str, Any]]:
    return [o for o in objects if o["kind"] == kind]


def identities(objects: list[dict[str, Any]]) -> list[str]:
    return [f"{o['kind']}/{o['metadata']['name']}" for o in objects]


CASES = [
    pytest.param(
        service(ingress={"hosts": ["api.example.com"]}),
        ["Gateway/api-gateway", "HTTPRoute/api", "CiliumNetworkPolicy/api-allow-gateway",
         "AuthorizationPolicy/api-allow-gateway"],
        id="plain hosts",
    ),
    pytest.param(
        service(ingress={"hosts": ["api.example.com"], "tls": AUTO_TLS}),
        ["Certificate/api-tls", "Gateway/api-gateway", "HTTPRoute/api",
         "CiliumNetworkPolicy/api-allow-gateway", "AuthorizationPolicy/api-allow-gateway"],
        id="auto tls adds a certificate",
    ),
    pytest.param(
        service(ingress={"hosts": ["api.example.com"],
                         "tls": {"mode": "manual", "secretName": "api-cert"}}),
        ["Gateway/api-gateway", "HTTPRoute/api", "CiliumNetworkPolicy/api-allow-gateway",
         "AuthorizationPolicy/api-allow-gateway"],
        id="manual tls has no certificate",
    ),
    pytest.param(
        service(ingress={"hosts": ["api.example.com"]}, deploy={"strategy": "canary"}),
        ["Gateway/api-gateway", "CiliumNetworkPolicy/api-allow-gateway",
         "AuthorizationPolicy/api-allow-gateway"],
        id="canary leaves the httproute to flagger",
    ),
    pytest.param(
        service(ingress={"hosts": ["api.example.com"]}, deploy={"strategy": "blue-green"}),
        ["Gateway/api-gateway", "CiliumNetworkPolicy/api-allow-gateway",
         "AuthorizationPolicy/api-allow-gateway"],
        id="blue-green leaves the httproute to flagger",
    ),
    pytest.param(
        service(
            service=TWO_PORTS,
            ingress={"routes": {
                "web": {"hosts": ["a.example.com"], "tls": AUTO_TLS},
                "rpc": {"kind": "GRPCRoute", "hosts": ["b.example.com"], "port": "grpc"},
                "raw": {"kind": "TCPRoute", "port": 9090},
            }},
            deploy={"strategy": "canary"},
        ),
        ["Certificate/api-web-tls", "Gateway/api-gateway", "TCPRoute/api-raw",
         "GRPCRoute/api-rpc", "HTTPRoute/api-web", "CiliumNetworkPolicy/api-allow-gateway",
         "AuthorizationPolicy/api-allow-gateway"],
        id="routes form keeps its named routes under canary",
    ),
]


@pytest.mark.parametrize(("doc", "expected"), CASES)
def test_objects_and_names(doc: dict[str, Any], expected: list[str]) -> None:
    objects = ingress.build_ingress(load(doc), CONTEXT)
    assert identities(objects) == expected
    assert_valid(objects)


@pytest.mark.parametrize(("doc", "expected"), CASES)
def test_every_object_is_labelled_and_namespaced(doc: dict[str, Any], expected: list[str]) -> None:
    for obj in ingress.build_ingress(load(doc), CONTEXT):
        assert obj["metadata"]["labels"] == service_labels("api")
        assert obj["metadata"]["namespace"] == "shop"


@pytest.mark.parametrize(("doc", "expected"), CASES)
def test_compiling_twice_gives_equal_output(doc: dict[str, Any], expected: list[str]) -> None:
    svc = load(doc)
    before = svc.model_dump()
    assert ingress.build_ingress(svc, CONTEXT) == ingress.build_ingress(svc, CONTEXT)
    assert svc.model_dump() == before


def test_no_ingress_gives_nothing() -> None:
    assert ingress.build_ingress(load(service()), CONTEXT) == []


def test_seed_example() -> None:
    objects = ingress.build_ingress(seed(), CONTEXT)
    assert identities(objects) == [
        "Certificate/api-gateway-tls", "Gateway/api-gateway-gateway",
        "CiliumNetworkPolicy/api-gateway-allow-gateway",
        "AuthorizationPolicy/api-gateway-allow-gateway",
    ]
    certificate, gateway, cilium, istio = objects
    assert certificate["spec"] == {
        "secretName": "api-gateway-tls",
        "dnsNames": ["api.example.com"],
        "issuerRef": {"name": "letsencrypt-prod", "kind": "ClusterIssuer",
                      "group": "cert-manager.io"},
    }
    assert gateway["spec"] == {
        "gatewayClassName": "istio",
        "listeners": [{
            "name": "https-api.example.com",
            "hostname": "api.example.com",
            "port": 443,
            "protocol": "HTTPS",
            "tls": {"mode": "Terminate",
                    "certificateRefs": [{"kind": "Secret", "name": "api-gateway-tls"}]},
            "allowedRoutes": {"namespaces": {"from": "Same"}},
        }],
    }
    assert cilium["spec"] == {
        "endpointSelector": {"matchLabels": {"lattice.dev/service": "api-gateway"}},
        "ingress": [{
            "fromEndpoints": [{"matchLabels": {
                "gateway.networking.k8s.io/gateway-name": "api-gateway-gateway",
                "k8s:io.kubernetes.pod.namespace": "platform",
            }}],
            "toPorts": [
                {"ports": [{"port": "8080", "protocol": "TCP"},
                           {"port": "15008", "protocol": "TCP"}]}
            ],
        }],
    }
    assert istio["spec"] == {
        "selector": {"matchLabels": {"lattice.dev/service": "api-gateway"}},
        "action": "ALLOW",
        "rules": [{
            "from": [{"source": {"principals": [
                "cluster.local/ns/platform/sa/api-gateway-gateway-istio"]}}],
            "to": [{"operation": {"ports": ["8080"]}}],
        }],
    }
    assert_valid(objects)


def test_httproute_with_paths_and_a_port_by_number() -> None:
    doc = service(service=TWO_PORTS, ingress={
        "hosts": ["api.example.com", "*.api.example.com"],
        "paths": [{"path": "/v1"}, {"path": "/healthz", "type": "Exact"}],
        "port": 9090,
    })
    objects = ingress.build_ingress(load(doc), CONTEXT)
    (route,) = by_kind(objects, "HTTPRoute")
    assert route["spec"] == {
        "parentRefs": [{"name": "api-gateway"}],
        "hostnames": ["api.example.com", "*.api.example.com"],
        "rules": [{
            "matches": [{"path": {"type": "PathPrefix", "value": "/v1"}},
                        {"path": {"type": "Exact", "value": "/healthz"}}],
            "backendRefs": [{"name": "api", "port": 9090}],
        }],
    }
    (gateway,) = by_kind(objects, "Gateway")
    listeners = gateway["spec"]["listeners"]
    assert [(x["name"], x["port"], x["protocol"]) for x in listeners] == [
        ("http-api.example.com", 80, "HTTP"), ("http-wildcard.api.example.com", 80, "HTTP"),
    ]
    assert_valid(objects)


def test_httproute_defaults_to_prefix_slash_on_the_first_port() -> None:
    objects = ingress.build_ingress(load(service(ingress={"hosts": ["a.example.com"]})), CONTEXT)
    (route,) = by_kind(objects, "HTTPRoute")
    assert route["spec"]["rules"] == [{
        "matches": [{"path": {"type": "PathPrefix", "value": "/"}}],
        "backendRefs": [{"name": "api", "port": 8080}],
    }]


def test_manual_tls_uses_the_given_secret() -> None:
    doc = service(ingress={"hosts": ["a.example.com"],
                           "tls": {"mode": "manual", "secretName": "a-cert"}})
    (gateway,) = by_kind(ingress.build_ingress(load(doc), CONTEXT), "Gateway")
    assert gateway["spec"]["listeners"][0]["tls"] == {
        "mode": "Terminate", "certificateRefs": [{"kind": "Secret", "name": "a-cert"}],
    }


@pytest.mark.parametrize(("doc", "cluster", "expected_class"), [
    pytest.param(service(ingress={"hosts": ["a.example.com"]}), ClusterInfo(), "istio",
                 id="cluster default"),
    pytest.param(service(ingress={"hosts": ["a.example.com"]}),
                 ClusterInfo(gateway_class="istio-edge", trust_domain="prod.example"),
                 "istio-edge", id="cluster setting"),
    pytest.param(service(ingress={"hosts": ["a.example.com"], "gatewayClass": "public"}),
                 ClusterInfo(trust_domain="prod.example"), "public", id="spec override"),
])
def test_gateway_class_and_gateway_identity(
    doc: dict[str, Any], cluster: ClusterInfo, expected_class: str
) -> None:
    objects = ingress.build_ingress(load(doc), CompileContext(cluster=cluster))
    (gateway,) = by_kind(objects, "Gateway")
    (policy,) = by_kind(objects, "AuthorizationPolicy")
    assert gateway["spec"]["gatewayClassName"] == expected_class
    assert policy["spec"]["rules"][0]["from"][0]["source"]["principals"] == [
        f"{cluster.trust_domain}/ns/shop/sa/api-gateway-{expected_class}"
    ]


def test_routes_form_listeners_and_route_specs() -> None:
    doc = service(service=TWO_PORTS, ingress={"routes": {
        "web": {"hosts": ["a.example.com"], "tls": AUTO_TLS, "port": "http"},
        "rpc": {"kind": "GRPCRoute", "hosts": ["a.example.com"], "port": "grpc",
                "tls": AUTO_TLS},
        "raw": {"kind": "TCPRoute", "port": "grpc"},
    }})
    objects = ingress.build_ingress(load(doc), CONTEXT)
    (gateway,) = by_kind(objects, "Gateway")
    assert gateway["spec"]["listeners"] == [
        {
            "name": "tcp-api-raw",
            "port": 9090,
            "protocol": "TCP",
            "allowedRoutes": {"namespaces": {"from": "Same"}, "kinds": [{"kind": "TCPRoute"}]},
        },
        {
            "name": "https-a.example.com",
            "hostname": "a.example.com",
            "port": 443,
            "protocol": "HTTPS",
            "tls": {"mode": "Terminate",
                    "certificateRefs": [{"kind": "Secret", "name": "api-rpc-tls"}]},
            "allowedRoutes": {"namespaces": {"from": "Same"}},
        },
    ]
    # routes are taken in name order; the first route on a host gives its listener and Secret
    assert identities(by_kind(objects, "Certificate")) == ["Certificate/api-rpc-tls"]
    (tcp,) = by_kind(objects, "TCPRoute")
    assert tcp["apiVersion"] == "gateway.networking.k8s.io/v1"
    assert tcp["spec"] == {
        "parentRefs": [{"name": "api-gateway", "sectionName": "tcp-api-raw"}],
        "rules": [{"backendRefs": [{"name": "api", "port": 9090}]}],
    }
    (grpc,) = by_kind(objects, "GRPCRoute")
    assert grpc["spec"] == {
        "parentRefs": [{"name": "api-gateway"}],
        "hostnames": ["a.example.com"],
        "rules": [{"backendRefs": [{"name": "api", "port": 9090}]}],
    }
    (cilium,) = by_kind(objects, "CiliumNetworkPolicy")
    assert cilium["spec"]["ingress"][0]["toPorts"] == [{"ports": [
        {"port": "8080", "protocol": "TCP"}, {"port": "9090", "protocol": "TCP"},
        {"port": "15008", "protocol": "TCP"}]}]
    (istio,) = by_kind(objects, "AuthorizationPolicy")
    assert istio["spec"]["rules"][0]["to"] == [{"operation": {"ports": ["8080", "9090"]}}]
    assert_valid(objects)


@pytest.mark.parametrize(("routes", "message"), [
    pytest.param(
        {"a": {"hosts": ["x.example.com"], "tls": AUTO_TLS},
         "b": {"hosts": ["x.example.com"], "tls": {"mode": "manual", "secretName": "x"}}},
        "service shop/api spec.ingress.routes.b: host 'x.example.com' is also served by "
        "spec.ingress.routes.a with different TLS",
        id="one host with auto and manual tls",
    ),
    pytest.param(
        {"a": {"hosts": ["x.example.com"], "tls": AUTO_TLS}, "b": {"hosts": ["x.example.com"]}},
        "service shop/api spec.ingress.routes.b: host 'x.example.com' is also served by "
        "spec.ingress.routes.a with different TLS",
        id="one host with and without tls",
    ),
    pytest.param(
        {"a": {"kind": "TCPRoute"}, "b": {"kind": "TCPRoute", "port": 8080}},
        "service shop/api spec.ingress.routes.b: TCP port 8080 is already used by "
        "spec.ingress.routes.a",
        id="two tcp routes on one port",
    ),
])
def test_conflicting_routes_are_refused(routes: dict[str, Any], message: str) -> None:
    svc = load(service(ingress={"routes": routes}))
    with pytest.raises(CompileError) as caught:
        ingress.build_ingress(svc, CONTEXT)
    assert str(caught.value) == message


@pytest.mark.parametrize(("doc", "owned"), [
    pytest.param(service(ingress={"hosts": ["a.example.com"]}), False, id="rolling"),
    pytest.param(service(ingress={"hosts": ["a.example.com"]}, deploy={"strategy": "canary"}),
                 True, id="canary simple form"),
    pytest.param(service(ingress={"routes": {"r": {"hosts": ["a.example.com"]}}},
                         deploy={"strategy": "canary"}), False, id="canary routes form"),
    pytest.param(service(deploy={"strategy": "canary"}), False, id="canary without ingress"),
])
def test_flagger_owns_the_http_route(doc: dict[str, Any], owned: bool) -> None:
    assert ingress.flagger_owns_http_route(load(doc)) is owned

