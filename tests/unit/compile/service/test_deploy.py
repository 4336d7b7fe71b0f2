"""deployment_strategy and build_progressive_delivery: RollingUpdate and Flagger Canaries."""

from __future__ import annotations

from typing import Any

import pytest

from lattice_pulumi.compile.context import ClusterInfo, CompileContext
from lattice_pulumi.compile.labels import service_labels
from lattice_pulumi.compile.service import deploy
from lattice_pulumi.errors import CompileError
from lattice_pulumi.spec.loader import load_text
from lattice_pulumi.spec.service import LatticeService
from tests.builders import service, to_yaml
from tests.conftest import EXAMPLES
from tests.manifests import assert_valid

PLAIN = CompileContext()
MONITORED = CompileContext(cluster=ClusterInfo(monitoring=True))
DEFAULT_METRICS = [
    {"name": "request-success-rate", "thresholdRange": {"min": 99}, "interval": "1m"},
    {"name": "request-duration", "thresholdRange": {"max": 500}, "interval": "1m"},
]


def load(doc: dict[str, Any]) -> LatticeService:
    result = load_text(to_yaml(doc))
    assert result.errors == []
    (svc,) = result.resources
    assert isinstance(svc, LatticeService)
    return svc


def canary_spec(doc: dict[str, Any], context: CompileContext = PLAIN) -> dict[str, Any]:
    objects = deploy.build_progressive_delivery(load(doc), context)
    assert_valid(objects)
    (canary,) = objects
    spec: dict[str, Any] = canary["spec"]
    return spec


@pytest.mark.parametrize(("spec", "strategy"), [
    pytest.param({}, {"maxSurge": "25%", "maxUnavailable": 0}, id="defaults"),
    pytest.param({"deploy": {"rolling": {"maxSurge": 1, "maxUnavailable": "10%"}}},
                 {"maxSurge": 1, "maxUnavailable": "10%"}, id="given"),
    pytest.param({"deploy": {"strategy": "canary"}}, {"maxSurge": "25%", "maxUnavailable": 0},
                 id="canary target keeps the defaults"),
])
def test_deployment_strategy(spec: dict[str, Any], strategy: dict[str, Any]) -> None:
    assert deploy.deployment_strategy(load(service(**spec))) == {
        "type": "RollingUpdate", "rollingUpdate": strategy,
    }


@pytest.mark.parametrize("rolling", [
    pytest.param({"maxSurge": 0, "maxUnavailable": 0}, id="numbers"),
    pytest.param({"maxSurge": "0%", "maxUnavailable": "0"}, id="strings"),
])
def test_a_rollout_that_cannot_progress_is_refused(rolling: dict[str, Any]) -> None:
    svc = load(service(deploy={"rolling": rolling}))
    with pytest.raises(CompileError) as caught:
        deploy.deployment_strategy(svc)
    assert str(caught.value) == (
        "service shop/api spec.deploy.rolling: maxSurge and maxUnavailable cannot both be zero: "
        "the rollout could never progress"
    )


def test_rolling_has_no_progressive_delivery() -> None:
    assert deploy.build_progressive_delivery(load(service()), PLAIN) == []


def test_seed_example() -> None:
    (svc,) = load_text((EXAMPLES / "services" / "api-gateway.yaml").read_text()).resources
    assert isinstance(svc, LatticeService)
    objects = deploy.build_progressive_delivery(svc, MONITORED)
    assert objects == [{
        "apiVersion": "flagger.app/v1beta1",
        "kind": "Canary",
        "metadata": {"name": "api-gateway", "namespace": "platform",
                     "labels": service_labels("api-gateway")},
        "spec": {
            "provider": "gatewayapi:v1",
            "targetRef": {"apiVersion": "apps/v1", "kind": "Deployment", "name": "api-gateway"},
            "metricsServer": MONITORED.cluster.metrics_endpoint,
            "autoscalerRef": {"apiVersion": "keda.sh/v1alpha1", "kind": "ScaledObject",
                              "name": "api-gateway"},
            "service": {
                "name": "api-gateway",
                "port": 80,
                "portName": "http",
                "targetPort": 8080,
                "hosts": ["api.example.com"],
                "gatewayRefs": [{"name": "api-gateway-gateway", "namespace": "platform"}],
            },
            "analysis": {"interval": "1m", "threshold": 5, "maxWeight": 50, "stepWeight": 10,
                         "metrics": DEFAULT_METRICS},
        },
    }]
    assert_valid(objects)


def test_blue_green_runs_iterations_without_weights() -> None:
    doc = service(deploy={"strategy": "blue-green",
                          "canary": {"interval": "30s", "stepWeight": 20, "maxWeight": 50,
                                     "threshold": 2}})
    assert canary_spec(doc)["analysis"] == {
        "interval": "30s", "threshold": 2, "iterations": 3, "metrics": DEFAULT_METRICS,
    }


def test_without_ingress_flagger_routes_the_mesh_through_the_service() -> None:
    spec = canary_spec(service(deploy={"strategy": "canary"}))
    assert spec["service"] == {
        "name": "api", "port": 8080, "portName": "http", "targetPort": 8080,
        "gatewayRefs": [{"group": "", "kind": "Service", "name": "api", "namespace": "shop",
                         "port": 8080}],
    }
    assert "metricsServer" not in spec
    assert "autoscalerRef" not in spec


def test_routes_form_keeps_the_mesh_route() -> None:
    doc = service(deploy={"strategy": "canary"},
                  ingress={"routes": {"web": {"hosts": ["a.example.com"]}}})
    assert canary_spec(doc)["service"]["gatewayRefs"] == [
        {"group": "", "kind": "Service", "name": "api", "namespace": "shop", "port": 8080}
    ]


def test_ingress_paths_port_and_extra_ports_reach_flagger() -> None:
    doc = service(
        deploy={"strategy": "canary"},
        service={"ports": {"web": {"port": 80, "targetPort": 8080}, "admin": {"port": 9000}}},
        ingress={"hosts": ["a.example.com"], "port": "web",
                 "paths": [{"path": "/api"}, {"path": "/status", "type": "Exact"}]},
    )
    assert canary_spec(doc)["service"] == {
        "name": "api", "port": 80, "portName": "web", "targetPort": 8080, "portDiscovery": True,
        "hosts": ["a.example.com"],
        "gatewayRefs": [{"name": "api-gateway", "namespace": "shop"}],
        "match": [{"uri": {"prefix": "/api"}}, {"uri": {"exact": "/status"}}],
    }


def test_prometheus_triggers_keep_their_query_for_the_primary() -> None:
    doc = service(deploy={"strategy": "canary"},
                  autoscaling={"max": 5, "metrics": [{"metric": "queue_depth", "target": 3}]})
    assert canary_spec(doc, MONITORED)["autoscalerRef"] == {
        "apiVersion": "keda.sh/v1alpha1", "kind": "ScaledObject", "name": "api",
        "primaryScalerQueries": {
            "queue_depth": 'sum(queue_depth{namespace="shop",lattice_dev_service="api"})',
        },
    }


def test_canary_metrics_and_fractional_thresholds() -> None:
    doc = service(deploy={"strategy": "canary", "canary": {"metrics": [
        {"name": "request-success-rate", "threshold": 99.5, "interval": "2m"},
        {"name": "request-duration", "threshold": 250, "interval": "90s"},
    ]}})
    assert canary_spec(doc)["analysis"]["metrics"] == [
        {"name": "request-success-rate", "thresholdRange": {"min": 99.5}, "interval": "2m"},
        {"name": "request-duration", "thresholdRange": {"max": 250}, "interval": "90s"},
    ]


def test_a_canary_needs_a_service_port() -> None:
    svc = load(service(deploy={"strategy": "canary"}, service={"ports": {}}))
    with pytest.raises(CompileError) as caught:
        deploy.build_progressive_delivery(svc, PLAIN)
    assert str(caught.value) == (
        "service shop/api spec.deploy.strategy: needs at least one service port"
    )


@pytest.mark.parametrize(("duration", "expected"), [
    pytest.param("1m", "1m", id="minutes"),
    pytest.param("30s", "30s", id="seconds"),
    pytest.param("1h", "60m", id="hours become minutes"),
    pytest.param("1m30s", "90s", id="mixed become seconds"),
    pytest.param("1.5m", "90s", id="fraction"),
    pytest.param("500ms", "1s", id="below a second rounds up"),
])
def test_flagger_duration(duration: str, expected: str) -> None:
    assert deploy.flagger_duration(duration) == expected
