"""How a LatticeService rolls out: the Deployment strategy and Flagger progressive delivery.

Called by ``compile_service``; pure (no I/O).

``deployment_strategy`` is the Deployment's ``.spec.strategy`` (RollingUpdate, 25% surge and
no unavailable pod unless ``deploy.rolling`` says otherwise).

``canary`` and ``blue-green`` compile to one Flagger ``Canary`` (named after the service)
targeting the service's Deployment. Why Flagger: it drives Gateway API routes directly
(provider ``gatewayapi:v1``), accepts a KEDA ScaledObject as its autoscaler, and runs both
strategies from one kind (weights for canary, ``iterations`` for blue/green), where Argo
Rollouts would replace the Deployment kind itself. What Flagger then owns:

- the Services ``<service>`` (apex, re-pointed at the ``-primary`` pods), ``<service>-primary``
  and ``<service>-canary``, the Deployment ``<service>-primary`` and, with autoscaling, the
  ScaledObject ``<service>-primary`` (our ScaledObject scales the canary Deployment and is
  paused by Flagger between analyses);
- the HTTPRoute named ``<service>``. With the simple ingress form its parent is the service's
  Gateway and it carries the ingress hosts and paths, so ``ingress.build_ingress`` omits its
  own HTTPRoute (see ``ingress.flagger_owns_http_route``). Without ingress, or with the routes
  form, the parent is the apex Service itself (a GAMMA mesh route), so in-mesh traffic is
  shifted and the named routes of the routes form stay ours, sending north-south traffic to
  the apex Service (the primary).

Analysis uses Flagger's built-in ``request-success-rate`` (minimum, percent) and
``request-duration`` (maximum, milliseconds), which Flagger reads from Istio's telemetry;
``metricsServer`` is the cluster's metrics endpoint when the cluster runs monitoring.
Blue/green runs ``ceil(maxWeight / stepWeight)`` iterations (as many checks as the canary
steps would take) until the spec grows its own ``iterations`` field.
"""

from __future__ import annotations

import math
import re
from typing import Any

from lattice_pulumi.compile import apiversions, labels
from lattice_pulumi.compile.context import CompileContext
from lattice_pulumi.compile.service import autoscaling, ingress
from lattice_pulumi.errors import CompileError
from lattice_pulumi.spec.service import LatticeService
from lattice_pulumi.spec.service_options import CanaryMetric, CanarySpec, RollingSpec

__all__ = [
    "FLAGGER_PROVIDER",
    "build_progressive_delivery",
    "deployment_strategy",
    "flagger_duration",
]

FLAGGER_PROVIDER = "gatewayapi:v1"
_DURATION_PART = re.compile(r"(\d+(?:\.\d+)?)(ns|us|µs|ms|s|m|h)")
_SECONDS = {"ns": 1e-9, "us": 1e-6, "µs": 1e-6, "ms": 1e-3, "s": 1.0, "m": 60.0, "h": 3600.0}
_ZERO = (0, "0", "0%")


def deployment_strategy(service: LatticeService) -> dict[str, Any]:
    """The Deployment's ``.spec.strategy``."""
    rolling = service.spec.deploy.rolling or RollingSpec()
    if rolling.max_surge in _ZERO and rolling.max_unavailable in _ZERO:
        raise CompileError(
            "maxSurge and maxUnavailable cannot both be zero: the rollout could never progress",
            subject=_subject(service),
            path=("spec", "deploy", "rolling"),
        )
    return {
        "type": "RollingUpdate",
        "rollingUpdate": {
            "maxSurge": rolling.max_surge,
            "maxUnavailable": rolling.max_unavailable,
        },
    }


def build_progressive_delivery(
    service: LatticeService, context: CompileContext
) -> list[dict[str, Any]]:
    """A Flagger Canary for ``canary`` / ``blue-green``; [] for ``rolling``."""
    strategy = service.spec.deploy.strategy
    if strategy not in ingress.FLAGGER_STRATEGIES:
        return []
    settings = service.spec.deploy.canary or CanarySpec()
    obj = apiversions.header("Canary", service.name, service.namespace)
    obj["metadata"]["labels"] = labels.service_labels(service.name)
    spec: dict[str, Any] = {
        "provider": FLAGGER_PROVIDER,
        "targetRef": {
            "apiVersion": apiversions.API_VERSIONS["Deployment"],
            "kind": "Deployment",
            "name": service.name,
        },
    }
    if context.cluster.monitoring:
        spec["metricsServer"] = context.cluster.metrics_endpoint
    if service.spec.autoscaling is not None:
        spec["autoscalerRef"] = _autoscaler_ref(service)
    spec["service"] = _canary_service(service)
    spec["analysis"] = _analysis(strategy, settings)
    obj["spec"] = spec
    return [obj]


def _autoscaler_ref(service: LatticeService) -> dict[str, Any]:
    ref: dict[str, Any] = {
        "apiVersion": apiversions.API_VERSIONS["ScaledObject"],
        "kind": "ScaledObject",
        "name": autoscaling.scaled_object_name(service),
    }
    queries = autoscaling.prometheus_queries(service)
    if queries:
        # Our queries select pods by lattice.dev/service, which primary pods keep: give them
        # unchanged, or Flagger rewrites every occurrence of the service name in them.
        ref["primaryScalerQueries"] = queries
    return ref


def _canary_service(service: LatticeService) -> dict[str, Any]:
    spec_ingress = service.spec.ingress
    ref = spec_ingress.port if spec_ingress is not None else None
    port = ingress.resolve_port(service, ref, ("spec", "deploy", "strategy"))
    out: dict[str, Any] = {
        "name": service.name,
        "port": port.port,
        "portName": port.name,
        "targetPort": port.target_port,
    }
    workload = service.spec.workload
    if workload.service is not None and len(workload.service.ports) > 1:
        out["portDiscovery"] = True
    if ingress.flagger_owns_http_route(service):
        assert spec_ingress is not None
        out["hosts"] = list(spec_ingress.hosts)
        out["gatewayRefs"] = [
            {"name": ingress.gateway_name(service), "namespace": service.namespace}
        ]
        if spec_ingress.paths:
            out["match"] = [
                {"uri": {"prefix" if m.type == "PathPrefix" else "exact": m.path}}
                for m in spec_ingress.paths
            ]
    else:
        out["gatewayRefs"] = [
            {
                "group": "",
                "kind": "Service",
                "name": service.name,
                "namespace": service.namespace,
                "port": port.port,
            }
        ]
    return out


def _analysis(strategy: str, settings: CanarySpec) -> dict[str, Any]:
    analysis: dict[str, Any] = {
        "interval": flagger_duration(settings.interval),
        "threshold": settings.threshold,
    }
    if strategy == "blue-green":
        analysis["iterations"] = math.ceil(settings.max_weight / settings.step_weight)
    else:
        analysis["maxWeight"] = settings.max_weight
        analysis["stepWeight"] = settings.step_weight
    analysis["metrics"] = [_metric(m) for m in settings.metrics]
    return analysis


def _metric(metric: CanaryMetric) -> dict[str, Any]:
    bound = "min" if metric.name == "request-success-rate" else "max"
    value = int(metric.threshold) if metric.threshold.is_integer() else metric.threshold
    return {
        "name": metric.name,
        "thresholdRange": {bound: value},
        "interval": flagger_duration(metric.interval),
    }


def flagger_duration(duration: str) -> str:
    """A Go duration rewritten as whole minutes or seconds, the form Flagger's schema takes."""
    seconds = sum(
        float(number) * _SECONDS[unit] for number, unit in _DURATION_PART.findall(duration)
    )
    whole = max(1, math.ceil(seconds))
    return f"{whole // 60}m" if whole % 60 == 0 else f"{whole}s"


def _subject(service: LatticeService) -> str:
    """How errors name the service (as ``compile_service`` does)."""
    return f"service {service.namespace}/{service.name}"
