"""Service-level options of a LatticeService: ports, autoscaling, ingress, deploy, backup.

Used by ``spec.service``; each block validates its own invariants.
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field, field_validator, model_validator

from lattice_pulumi.spec.base import DnsLabel, DnsSubdomain, Duration, SpecModel

__all__ = [
    "Autoscaling",
    "BackupHook",
    "BackupSpec",
    "CanaryMetric",
    "CanarySpec",
    "DeploySpec",
    "IngressSpec",
    "IssuerRef",
    "MetricTarget",
    "PortSpec",
    "RollingSpec",
    "Route",
    "RouteMatch",
    "ServicePorts",
    "TlsSpec",
]

_RESOURCE_METRICS = ("cpu", "memory")
Hostname = Annotated[
    str, Field(pattern=r"^(\*\.)?[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$")
]


class PortSpec(SpecModel):
    port: int = Field(ge=1, le=65535)
    target_port: int | None = Field(default=None, ge=1, le=65535)
    protocol: Literal["TCP", "UDP", "SCTP"] = "TCP"

    @property
    def container_port(self) -> int:
        return self.target_port or self.port


class ServicePorts(SpecModel):
    ports: dict[
        Annotated[str, Field(pattern=r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$", max_length=15)], PortSpec
    ] = Field(default_factory=dict)

    @model_validator(mode="after")
    def _unique_ports(self) -> ServicePorts:
        seen: dict[tuple[int, str], str] = {}
        for name, spec in self.ports.items():
            key = (spec.port, spec.protocol)
            if key in seen:
                raise ValueError(
                    f"ports '{seen[key]}' and '{name}' both use {spec.protocol} port {spec.port}"
                )
            seen[key] = name
        return self


class MetricTarget(SpecModel):
    """``cpu``/``memory`` target utilisation in percent, or a Prometheus metric's target value."""

    metric: str = Field(min_length=1)
    target: int = Field(ge=1)

    @model_validator(mode="after")
    def _percent_for_resources(self) -> MetricTarget:
        if self.metric in _RESOURCE_METRICS and self.target > 100:
            raise ValueError(f"{self.metric} target is a utilisation percentage: expected 1-100")
        return self


class Autoscaling(SpecModel):
    min: int | None = Field(default=None, ge=0)
    max: int = Field(ge=1)
    metrics: list[MetricTarget] = Field(
        default_factory=lambda: [MetricTarget(metric="cpu", target=80)]
    )

    @model_validator(mode="after")
    def _min_le_max(self) -> Autoscaling:
        if self.min is not None and self.min > self.max:
            raise ValueError(f"min ({self.min}) is greater than max ({self.max})")
        return self


class IssuerRef(SpecModel):
    name: DnsSubdomain
    kind: Literal["ClusterIssuer", "Issuer"] = "ClusterIssuer"


class TlsSpec(SpecModel):
    """``auto``: cert-manager issues the certificate; ``manual``: an existing Secret."""

    mode: Literal["auto", "manual"] = "auto"
    issuer_ref: IssuerRef | None = None
    secret_name: DnsSubdomain | None = None

    @model_validator(mode="after")
    def _mode_fields(self) -> TlsSpec:
        if self.mode == "auto" and self.issuer_ref is None:
            raise ValueError("tls mode auto needs issuerRef (the cert-manager issuer)")
        if self.mode == "manual" and self.secret_name is None:
            raise ValueError("tls mode manual needs secretName (an existing TLS Secret)")
        return self


class RouteMatch(SpecModel):
    path: str = "/"
    type: Literal["PathPrefix", "Exact"] = "PathPrefix"

    @field_validator("path")
    @classmethod
    def _absolute(cls, value: str) -> str:
        if not value.startswith("/"):
            raise ValueError(f"'{value}' must start with '/'")
        return value


class Route(SpecModel):
    kind: Literal["HTTPRoute", "GRPCRoute", "TCPRoute"] = "HTTPRoute"
    hosts: list[Hostname] = Field(default_factory=list)
    port: str | int | None = None
    paths: list[RouteMatch] = Field(default_factory=list)
    tls: TlsSpec | None = None

    @model_validator(mode="after")
    def _kind_fields(self) -> Route:
        if self.kind == "TCPRoute" and (self.hosts or self.paths):
            raise ValueError("a TCPRoute has no hosts or paths: it routes by listener port")
        if self.kind != "TCPRoute" and not self.hosts:
            raise ValueError(f"a {self.kind} needs at least one host")
        if self.kind == "GRPCRoute" and self.paths:
            raise ValueError("a GRPCRoute matches services, not paths")
        return self


class IngressSpec(SpecModel):
    """Either the simple form (``hosts`` + ``tls``) or named ``routes``, not both."""

    gateway_class: str | None = None
    hosts: list[Hostname] = Field(default_factory=list)
    paths: list[RouteMatch] = Field(default_factory=list)
    port: str | int | None = None
    tls: TlsSpec | None = None
    routes: dict[DnsLabel, Route] = Field(default_factory=dict)

    @model_validator(mode="after")
    def _one_form(self) -> IngressSpec:
        if self.routes and (self.hosts or self.paths or self.tls):
            raise ValueError("use either hosts/paths/tls or routes, not both")
        if not self.routes and not self.hosts:
            raise ValueError("ingress needs hosts or routes")
        return self


class RollingSpec(SpecModel):
    max_surge: str | int = "25%"
    max_unavailable: str | int = 0


class CanaryMetric(SpecModel):
    name: Literal["request-success-rate", "request-duration"]
    threshold: float = Field(gt=0)
    interval: Duration = "1m"


class CanarySpec(SpecModel):
    interval: Duration = "1m"
    step_weight: int = Field(default=10, ge=1, le=100)
    max_weight: int = Field(default=50, ge=1, le=100)
    threshold: int = Field(default=5, ge=1)
    metrics: list[CanaryMetric] = Field(
        default_factory=lambda: [
            CanaryMetric(name="request-success-rate", threshold=99),
            CanaryMetric(name="request-duration", threshold=500),
        ]
    )

    @model_validator(mode="after")
    def _weights(self) -> CanarySpec:
        if self.step_weight > self.max_weight:
            raise ValueError(
                f"stepWeight ({self.step_weight}) is greater than maxWeight ({self.max_weight})"
            )
        return self


class DeploySpec(SpecModel):
    strategy: Literal["rolling", "canary", "blue-green"] = "rolling"
    rolling: RollingSpec | None = None
    canary: CanarySpec | None = None

    @model_validator(mode="after")
    def _strategy_fields(self) -> DeploySpec:
        if self.rolling is not None and self.strategy != "rolling":
            raise ValueError(f"rolling settings given but strategy is {self.strategy}")
        if self.canary is not None and self.strategy == "rolling":
            raise ValueError("canary settings given but strategy is rolling")
        return self


class BackupHook(SpecModel):
    container: str
    command: list[str] = Field(min_length=1)
    timeout: Duration = "30s"
    on_error: Literal["Continue", "Fail"] = "Fail"


class BackupSpec(SpecModel):
    """Velero pre/post hooks and which volumes to snapshot or skip."""

    pre: list[BackupHook] = Field(default_factory=list)
    post: list[BackupHook] = Field(default_factory=list)
    include_volumes: list[str] = Field(default_factory=list)
    exclude_volumes: list[str] = Field(default_factory=list)

    @model_validator(mode="after")
    def _disjoint(self) -> BackupSpec:
        both = sorted(set(self.include_volumes) & set(self.exclude_volumes))
        if both:
            raise ValueError(f"volumes both included and excluded: {', '.join(both)}")
        return self
