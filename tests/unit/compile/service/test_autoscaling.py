"""build_scaled_object: KEDA triggers, replica bounds, and the refusals."""

from __future__ import annotations

from typing import Any

import pytest

from lattice_pulumi.compile.context import ClusterInfo, CompileContext
from lattice_pulumi.compile.labels import service_labels
from lattice_pulumi.compile.service import autoscaling
from lattice_pulumi.errors import CompileError
from lattice_pulumi.spec.loader import load_text
from lattice_pulumi.spec.service import LatticeService
from tests.builders import service, to_yaml
from tests.conftest import EXAMPLES
from tests.manifests import assert_valid

PLAIN = CompileContext()
MONITORED = CompileContext(cluster=ClusterInfo(name="prod", monitoring=True))
ENDPOINT = MONITORED.cluster.metrics_endpoint


def load(doc: dict[str, Any]) -> LatticeService:
    result = load_text(to_yaml(doc))
    assert result.errors == []
    (svc,) = result.resources
    assert isinstance(svc, LatticeService)
    return svc


def test_no_autoscaling_gives_nothing() -> None:
    assert autoscaling.build_scaled_object(load(service()), PLAIN) == []


def test_seed_example() -> None:
    (svc,) = load_text((EXAMPLES / "services" / "api-gateway.yaml").read_text()).resources
    assert isinstance(svc, LatticeService)
    objects = autoscaling.build_scaled_object(svc, PLAIN)
    assert objects == [{
        "apiVersion": "keda.sh/v1alpha1",
        "kind": "ScaledObject",
        "metadata": {"name": "api-gateway", "namespace": "platform",
                     "labels": service_labels("api-gateway")},
        "spec": {
            "scaleTargetRef": {"apiVersion": "apps/v1", "kind": "Deployment",
                               "name": "api-gateway"},
            "minReplicaCount": 2,
            "maxReplicaCount": 10,
            "triggers": [{"type": "cpu", "name": "cpu", "metricType": "Utilization",
                          "metadata": {"value": "70"}}],
        },
    }]
    assert_valid(objects)


@pytest.mark.parametrize(("spec", "bounds"), [
    pytest.param({"autoscaling": {"min": 3, "max": 5}}, (3, 5), id="min given"),
    pytest.param({"replicas": 4, "autoscaling": {"max": 6}}, (4, 6), id="min from replicas"),
    pytest.param({"autoscaling": {"max": 6}}, (1, 6), id="min from default replicas"),
])
def test_replica_bounds(spec: dict[str, Any], bounds: tuple[int, int]) -> None:
    (obj,) = autoscaling.build_scaled_object(load(service(**spec)), PLAIN)
    assert (obj["spec"]["minReplicaCount"], obj["spec"]["maxReplicaCount"]) == bounds


@pytest.mark.parametrize(("metrics", "triggers"), [
    pytest.param(
        None,
        [{"type": "cpu", "name": "cpu", "metricType": "Utilization", "metadata": {"value": "80"}}],
        id="default cpu 80",
    ),
    pytest.param(
        [{"metric": "memory", "target": 60}, {"metric": "cpu", "target": 50}],
        [{"type": "memory", "name": "memory", "metricType": "Utilization",
          "metadata": {"value": "60"}},
         {"type": "cpu", "name": "cpu", "metricType": "Utilization",
          "metadata": {"value": "50"}}],
        id="memory and cpu",
    ),
    pytest.param(
        [{"metric": "cpu", "target": 70}, {"metric": "http_requests_in_flight", "target": 25}],
        [{"type": "cpu", "name": "cpu", "metricType": "Utilization", "metadata": {"value": "70"}},
         {"type": "prometheus", "name": "http_requests_in_flight", "metricType": "AverageValue",
          "metadata": {
              "serverAddress": ENDPOINT,
              "query": 'sum(http_requests_in_flight{namespace="shop",lattice_dev_service="api"})',
              "threshold": "25",
          }}],
        id="cpu and a prometheus metric",
    ),
])
def test_triggers(metrics: list[dict[str, Any]] | None, triggers: list[dict[str, Any]]) -> None:
    scale: dict[str, Any] = {"max": 4}
    if metrics is not None:
        scale["metrics"] = metrics
    objects = autoscaling.build_scaled_object(load(service(autoscaling=scale)), MONITORED)
    assert objects[0]["spec"]["triggers"] == triggers
    assert_valid(objects)


def test_scale_to_zero_on_a_prometheus_metric() -> None:
    scale = {"min": 0, "max": 3, "metrics": [{"metric": "queue_depth", "target": 10}]}
    objects = autoscaling.build_scaled_object(load(service(autoscaling=scale)), MONITORED)
    assert objects[0]["spec"]["minReplicaCount"] == 0
    assert_valid(objects)


@pytest.mark.parametrize(("scale", "context", "message"), [
    pytest.param(
        {"max": 3, "metrics": [{"metric": "cpu", "target": 70}, {"metric": "rps", "target": 5}]},
        PLAIN,
        "service shop/api spec.autoscaling.metrics[1]: metric 'rps' needs monitoring on "
        "cluster 'local' (scale on cpu or memory, or enable monitoring)",
        id="custom metric without monitoring",
    ),
    pytest.param(
        {"max": 3, "metrics": [{"metric": "rate(x[1m])", "target": 5}]},
        MONITORED,
        "service shop/api spec.autoscaling.metrics[0].metric: 'rate(x[1m])' is not a "
        "Prometheus metric name (expected cpu, memory or a name such as http_requests_in_flight)",
        id="promql instead of a metric name",
    ),
    pytest.param(
        {"max": 3, "metrics": [{"metric": "cpu", "target": 70}, {"metric": "cpu", "target": 50}]},
        PLAIN,
        "service shop/api spec.autoscaling.metrics[1]: metric 'cpu' is listed twice",
        id="metric listed twice",
    ),
    pytest.param(
        {"min": 0, "max": 3},
        PLAIN,
        "service shop/api spec.autoscaling.min: scaling to zero needs a metric other than cpu "
        "or memory (KEDA cannot wake a service from zero on resource usage)",
        id="scale to zero on cpu",
    ),
])
def test_refusals(scale: dict[str, Any], context: CompileContext, message: str) -> None:
    with pytest.raises(CompileError) as caught:
        autoscaling.build_scaled_object(load(service(autoscaling=scale)), context)
    assert str(caught.value) == message


def test_prometheus_queries_name_only_custom_metrics() -> None:
    scale = {"max": 3, "metrics": [{"metric": "cpu", "target": 70},
                                   {"metric": "queue_depth", "target": 10}]}
    assert autoscaling.prometheus_queries(load(service(autoscaling=scale))) == {
        "queue_depth": 'sum(queue_depth{namespace="shop",lattice_dev_service="api"})'
    }
    assert autoscaling.prometheus_queries(load(service())) == {}
