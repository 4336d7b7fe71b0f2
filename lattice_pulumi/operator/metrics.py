"""Prometheus metrics of the operator, on a registry of its own.

``lattice_operator_reconciles_total``, ``lattice_operator_reconcile_failures_total{kind}``
(``temporary`` or ``permanent``), ``lattice_operator_reconcile_duration_seconds`` (histogram),
``lattice_operator_queue_depth`` (services waiting for or in a reconcile) and
``lattice_operator_leader`` (1 while this process holds the lease),
``lattice_operator_objects_total{result}`` (generated objects ``applied`` or ``skipped``
because unchanged since their last apply). ``exposition`` renders
the text format served at ``/metrics``.
"""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest

__all__ = ["CONTENT_TYPE", "Metrics"]

CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"
_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)


class Metrics:
    """The operator's counters, histogram and gauges (one registry per instance)."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        self.reconciles = Counter(
            "lattice_operator_reconciles", "Reconciles run.", registry=self.registry
        )
        self.failures = Counter(
            "lattice_operator_reconcile_failures",
            "Reconciles that failed, by kind (temporary: retried; permanent: spec or policy).",
            ["kind"],
            registry=self.registry,
        )
        self.duration = Histogram(
            "lattice_operator_reconcile_duration_seconds",
            "Time of one reconcile (compile, apply, prune, status).",
            buckets=_BUCKETS,
            registry=self.registry,
        )
        self.queue_depth = Gauge(
            "lattice_operator_queue_depth",
            "Services waiting for a reconcile or in one.",
            registry=self.registry,
        )
        self.objects = Counter(
            "lattice_operator_objects",
            "Generated objects, by result (applied, or skipped: unchanged since applied).",
            ["result"],
            registry=self.registry,
        )
        self.leader = Gauge(
            "lattice_operator_leader",
            "1 while this process holds the lease.",
            registry=self.registry,
        )

    def exposition(self) -> bytes:
        return generate_latest(self.registry)
