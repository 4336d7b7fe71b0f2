"""What the self-cluster planner sees of the cluster's own Cluster API objects.

``Observed`` holds the raw bodies read by ``cluster_self`` (the Cluster, the control plane,
the MachineDeployments by pool, the MachineHealthChecks by name); ``control_plane_view``
and ``pool_view`` reduce a body to the few fields the rollout needs, for both contracts the
cluster compiler emits: KubeadmControlPlane ``v1beta2`` (``status.upToDateReplicas``) and
RKE2ControlPlane ``v1beta1`` (``status.updatedReplicas``). A status whose
``observedGeneration`` is older than the object's ``generation`` is not ``current``: its
controller has not looked at the latest spec yet, so nothing it says counts as settled.
Pure.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from lattice_pulumi.operator.cluster_versions import Version, parse_version

__all__ = ["ControlPlaneView", "Observed", "PoolView", "control_plane_view", "pool_view"]


@dataclass(frozen=True)
class Observed:
    """The cluster's Cluster API objects as read (None or absent: not found)."""

    cluster: Mapping[str, Any] | None = None
    control_plane: Mapping[str, Any] | None = None
    deployments: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)
    """MachineDeployments by pool name."""
    health_checks: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)
    """MachineHealthChecks by object name."""


@dataclass(frozen=True)
class ControlPlaneView:
    """The control plane's version and replica counts."""

    spec_version: Version | None
    status_version: Version | None
    replicas: int
    status_replicas: int = 0
    up_to_date: int = 0
    ready: int = 0
    current: bool = True

    @property
    def settled(self) -> bool:
        """Every machine runs the spec's version and the status reflects the latest spec."""
        return (
            self.current
            and self.spec_version is not None
            and self.status_version == self.spec_version
            and self.up_to_date >= self.replicas
            and self.status_replicas == self.replicas
        )


@dataclass(frozen=True)
class PoolView:
    """One pool's MachineDeployment: version and replica counts."""

    name: str
    spec_version: Version | None
    replicas: int
    status_replicas: int = 0
    up_to_date: int = 0
    available: int = 0
    ready: int = 0
    current: bool = True

    @property
    def settled(self) -> bool:
        """Every machine is of the current template and available, none is left over."""
        return (
            self.current
            and self.up_to_date >= self.replicas
            and self.available >= self.replicas
            and self.status_replicas == self.replicas
        )


def _int(value: Any) -> int:
    return value if isinstance(value, int) and not isinstance(value, bool) else 0


def _current(body: Mapping[str, Any]) -> bool:
    generation = _int(body.get("metadata", {}).get("generation"))
    observed = _int((body.get("status") or {}).get("observedGeneration"))
    return observed >= generation


def control_plane_view(body: Mapping[str, Any]) -> ControlPlaneView:
    spec, status = body.get("spec") or {}, body.get("status") or {}
    return ControlPlaneView(
        spec_version=parse_version(spec.get("version")),
        status_version=parse_version(status.get("version")),
        replicas=_int(spec.get("replicas", 1)),
        status_replicas=_int(status.get("replicas")),
        up_to_date=_int(status.get("upToDateReplicas", status.get("updatedReplicas"))),
        ready=_int(status.get("readyReplicas")),
        current=_current(body),
    )


def pool_view(name: str, body: Mapping[str, Any]) -> PoolView:
    spec, status = body.get("spec") or {}, body.get("status") or {}
    template = (spec.get("template") or {}).get("spec") or {}
    return PoolView(
        name=name,
        spec_version=parse_version(template.get("version")),
        replicas=_int(spec.get("replicas", 1)),
        status_replicas=_int(status.get("replicas")),
        up_to_date=_int(status.get("upToDateReplicas", status.get("updatedReplicas"))),
        available=_int(status.get("availableReplicas")),
        ready=_int(status.get("readyReplicas")),
        current=_current(body),
    )
