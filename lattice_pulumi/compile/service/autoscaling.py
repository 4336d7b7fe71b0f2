"""KEDA ScaledObject of a LatticeService (``spec.autoscaling``).

Called by ``compile_service``; ``deploy`` uses ``prometheus_queries`` for Flagger's primary
scaler. Pure (no I/O).

Triggers, one per ``spec.autoscaling.metrics`` entry, named after the metric:

- ``cpu`` / ``memory``: KEDA resource triggers, ``metricType: Utilization``, the target a
  percentage of the containers' requests (the containers need requests for these);
- anything else is a Prometheus metric name queried on the cluster's metrics endpoint
  (``ClusterInfo.metrics_endpoint``, so the cluster needs monitoring). Convention: the
  monitoring stack copies the pod label ``lattice.dev/service`` to the series label
  ``lattice_dev_service`` (``SERVICE_METRIC_LABEL``) and sets ``namespace``; the query sums the
  metric over the service's pods and KEDA's ``AverageValue`` divides it by the replica count,
  so ``target`` is the value each replica should carry. The metric must be a gauge (or a
  recording rule) per pod; a raw counter needs a recording rule first.
"""

from __future__ import annotations

import re
from typing import Any

from lattice_pulumi.compile import apiversions, labels
from lattice_pulumi.compile.context import CompileContext
from lattice_pulumi.errors import CompileError
from lattice_pulumi.spec.service import LatticeService
from lattice_pulumi.spec.service_options import Autoscaling, MetricTarget

__all__ = [
    "RESOURCE_METRICS",
    "SERVICE_METRIC_LABEL",
    "build_scaled_object",
    "prometheus_queries",
    "prometheus_query",
    "scaled_object_name",
]

RESOURCE_METRICS = ("cpu", "memory")
SERVICE_METRIC_LABEL = "lattice_dev_service"
_METRIC_NAME = re.compile(r"^[a-zA-Z_:][a-zA-Z0-9_:]*$")


def scaled_object_name(service: LatticeService) -> str:
    """The ScaledObject's name: the service's (and its Deployment's) name."""
    return service.name


def prometheus_query(service: LatticeService, metric: str) -> str:
    """PromQL summing ``metric`` over the service's pods (see the module docstring)."""
    selector = f'namespace="{service.namespace}",{SERVICE_METRIC_LABEL}="{service.name}"'
    return f"sum({metric}{{{selector}}})"


def prometheus_queries(service: LatticeService) -> dict[str, str]:
    """Trigger name -> query of each Prometheus trigger ({} without custom metrics)."""
    scale = service.spec.autoscaling
    if scale is None:
        return {}
    return {
        m.metric: prometheus_query(service, m.metric)
        for m in scale.metrics
        if m.metric not in RESOURCE_METRICS
    }


def build_scaled_object(service: LatticeService, context: CompileContext) -> list[dict[str, Any]]:
    """The ScaledObject scaling the service's Deployment; [] without ``spec.autoscaling``."""
    scale = service.spec.autoscaling
    if scale is None:
        return []
    _check(service, context, scale)
    obj = apiversions.header("ScaledObject", scaled_object_name(service), service.namespace)
    obj["metadata"]["labels"] = labels.service_labels(service.name)
    obj["spec"] = {
        "scaleTargetRef": {
            "apiVersion": apiversions.API_VERSIONS["Deployment"],
            "kind": "Deployment",
            "name": service.name,
        },
        "minReplicaCount": _min_replicas(service, scale),
        "maxReplicaCount": scale.max,
        "triggers": [_trigger(service, context, m) for m in scale.metrics],
    }
    return [obj]


def _min_replicas(service: LatticeService, scale: Autoscaling) -> int:
    return scale.min if scale.min is not None else service.spec.replicas


def _check(service: LatticeService, context: CompileContext, scale: Autoscaling) -> None:
    seen: set[str] = set()
    for index, target in enumerate(scale.metrics):
        path = ("spec", "autoscaling", "metrics", index)
        if target.metric in seen:
            raise CompileError(
                f"metric '{target.metric}' is listed twice", subject=_subject(service), path=path
            )
        seen.add(target.metric)
        if target.metric in RESOURCE_METRICS:
            continue
        if not _METRIC_NAME.match(target.metric):
            raise CompileError(
                f"'{target.metric}' is not a Prometheus metric name (expected cpu, memory or "
                "a name such as http_requests_in_flight)",
                subject=_subject(service),
                path=(*path, "metric"),
            )
        if not context.cluster.monitoring:
            raise CompileError(
                f"metric '{target.metric}' needs monitoring on cluster "
                f"'{context.cluster.name}' (scale on cpu or memory, or enable monitoring)",
                subject=_subject(service),
                path=path,
            )
    if _min_replicas(service, scale) == 0 and seen <= set(RESOURCE_METRICS):
        raise CompileError(
            "scaling to zero needs a metric other than cpu or memory (KEDA cannot wake a "
            "service from zero on resource usage)",
            subject=_subject(service),
            path=("spec", "autoscaling", "min"),
        )


def _trigger(
    service: LatticeService, context: CompileContext, target: MetricTarget
) -> dict[str, Any]:
    if target.metric in RESOURCE_METRICS:
        return {
            "type": target.metric,
            "name": target.metric,
            "metricType": "Utilization",
            "metadata": {"value": str(target.target)},
        }
    return {
        "type": "prometheus",
        "name": target.metric,
        "metricType": "AverageValue",
        "metadata": {
            "serverAddress": context.cluster.metrics_endpoint,
            "query": prometheus_query(service, target.metric),
            "threshold": str(target.target),
        },
    }


def _subject(service: LatticeService) -> str:
    """How errors name the service (as ``compile_service`` does)."""
    return f"service {service.namespace}/{service.name}"
