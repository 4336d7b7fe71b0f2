"""The LatticeCluster kind: a Kubernetes cluster Lattice provisions with Cluster API and then
hands its own management (pivot).

Models here hold single-object rules (odd control plane, pool bounds, distinct ports); rules
that span the spec and need a precise path (CIDR overlap, Proxmox pool size, instance types per
provider) live in ``spec.cluster_checks`` and run through ``LatticeCluster.check``. Used by the
loader, the cluster compiler, the Pulumi component and the operator.
"""

from __future__ import annotations

import ipaddress
import re
from typing import Annotated, Any, ClassVar, Literal

from pydantic import AfterValidator, Field, field_validator, model_validator

from lattice_pulumi.errors import SpecError
from lattice_pulumi.spec import cluster_aliases, cluster_checks
from lattice_pulumi.spec.aliases import Normalized
from lattice_pulumi.spec.base import (
    Cidr,
    DnsLabel,
    DnsSubdomain,
    LabelKey,
    Port,
    SpecModel,
)
from lattice_pulumi.spec.cluster_providers import ProviderConfig
from lattice_pulumi.spec.meta import Resource, Status

__all__ = [
    "AddonStatus",
    "BackupsFeature",
    "ControlPlane",
    "FeatureToggle",
    "KubernetesConfig",
    "LatticeCluster",
    "LatticeClusterSpec",
    "LatticeClusterStatus",
    "MonitoringFeature",
    "Networking",
    "NodeCount",
    "Nodes",
    "ParentConfig",
    "ParentService",
    "PoolStatus",
    "Provider",
    "RootVolume",
    "Taint",
    "VersionRollout",
    "WorkerPool",
]

_VERSION = re.compile(r"(0|[1-9]\d*)\.(0|[1-9]\d*)\.(0|[1-9]\d*)")
_HOSTNAME = re.compile(r"(\*\.)?[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*")


def _check_version(value: str) -> str:
    if not _VERSION.fullmatch(value):
        raise ValueError(f"'{value}' is not a Kubernetes version: expected X.Y.Z such as 1.32.0")
    return value


def _check_san(value: str) -> str:
    try:
        ipaddress.ip_address(value)
    except ValueError:
        if len(value) > 253 or not _HOSTNAME.fullmatch(value):
            raise ValueError(f"'{value}' is not a DNS name or IP address") from None
    return value


KubernetesVersion = Annotated[str, AfterValidator(_check_version)]
SubjectAltName = Annotated[str, AfterValidator(_check_san)]


class KubernetesConfig(SpecModel):
    """Kubernetes version, bootstrap flavour, extra API server certificate names, and
    ``fips``: TLS 1.2 minimum and FIPS-approved cipher suites on API server and kubelet."""

    version: KubernetesVersion
    bootstrap: Literal["kubeadm", "rke2"] = "kubeadm"
    cert_sans: list[SubjectAltName] = Field(default_factory=list, alias="certSANs")
    fips: bool = False


class Provider(SpecModel):
    """How the cluster is built: Kubernetes settings plus one infrastructure block."""

    kubernetes: KubernetesConfig
    config: ProviderConfig


class RootVolume(SpecModel):
    """Root disk of a node group; size in GiB, type as the provider names it (gp3, ...)."""

    size: int = Field(ge=1, le=65536)
    type: str | None = None


class ControlPlane(SpecModel):
    """Control-plane machines; an odd count keeps etcd quorum."""

    replicas: int = Field(default=1, ge=1)
    instance_type: str | None = None
    root_volume: RootVolume | None = None

    @field_validator("replicas")
    @classmethod
    def _odd(cls, value: int) -> int:
        if value % 2 == 0:
            raise ValueError(
                f"{value} control-plane replicas cannot keep etcd quorum: "
                "expected an odd number such as 1, 3 or 5"
            )
        return value


class Taint(SpecModel):
    """A Kubernetes node taint."""

    key: LabelKey
    value: str | None = Field(default=None, max_length=63)
    effect: Literal["NoSchedule", "PreferNoSchedule", "NoExecute"]


class WorkerPool(SpecModel):
    """A group of identical workers: a fixed ``replicas`` or autoscaled within ``min``..``max``."""

    replicas: int | None = Field(default=None, ge=0)
    min: int | None = Field(default=None, ge=0)
    max: int | None = Field(default=None, ge=1)
    instance_type: str | None = None
    labels: dict[LabelKey, Annotated[str, Field(max_length=63)]] = Field(default_factory=dict)
    taints: list[Taint] = Field(default_factory=list)
    root_volume: RootVolume | None = None
    gpu: bool = False

    @model_validator(mode="after")
    def _sizes_agree(self) -> WorkerPool:
        if (self.min is None) != (self.max is None):
            raise ValueError("min and max go together: set both to autoscale, or neither")
        if self.min is not None and self.max is not None:
            if self.min > self.max:
                raise ValueError(f"min ({self.min}) must not exceed max ({self.max})")
            if self.replicas is not None and not self.min <= self.replicas <= self.max:
                raise ValueError(
                    f"replicas ({self.replicas}) must lie within min..max ({self.min}..{self.max})"
                )
        elif self.replicas is None:
            raise ValueError("expected replicas, or min and max for an autoscaled pool")
        seen: set[tuple[str, str]] = set()
        for taint in self.taints:
            if (taint.key, taint.effect) in seen:
                raise ValueError(f"taint {taint.key}:{taint.effect} is listed more than once")
            seen.add((taint.key, taint.effect))
        return self

    @property
    def most_nodes(self) -> int:
        """The largest number of nodes this pool may run (``max`` when autoscaled)."""
        return self.max if self.max is not None else (self.replicas or 0)


class Nodes(SpecModel):
    """Control plane and named worker pools."""

    control_plane: ControlPlane = Field(default_factory=ControlPlane)
    worker_pools: dict[DnsLabel, WorkerPool] = Field(default_factory=dict)


class Networking(SpecModel):
    """Cluster address ranges; pod, service and node ranges must not overlap."""

    pod_cidr: Cidr = "10.244.0.0/16"
    service_cidr: Cidr = "10.96.0.0/12"
    node_cidr: Cidr | None = None
    lb_cidr: Cidr | None = None
    """Addresses for LoadBalancer services (Cilium LB IPAM)."""


class ParentService(SpecModel):
    """How children reach a parent cluster's endpoints."""

    type: Literal["LoadBalancer", "NodePort", "ClusterIP"] = "LoadBalancer"


class ParentConfig(SpecModel):
    """Present when this cluster is a parent (cell) that provisions and serves children."""

    grpc_port: Port = 50051
    bootstrap_port: Port = 8443
    proxy_port: Port = 8081
    service: ParentService = Field(default_factory=ParentService)

    @model_validator(mode="after")
    def _distinct_ports(self) -> ParentConfig:
        ports = {
            "grpcPort": self.grpc_port,
            "bootstrapPort": self.bootstrap_port,
            "proxyPort": self.proxy_port,
        }
        names = list(ports)
        for i, first in enumerate(names):
            for second in names[i + 1 :]:
                if ports[first] == ports[second]:
                    raise ValueError(
                        f"{first} and {second} are both {ports[first]}: "
                        "expected three distinct ports"
                    )
        return self


class FeatureToggle(SpecModel):
    """A feature that is either installed or not."""

    enabled: bool = False


class MonitoringFeature(SpecModel):
    """Metrics stack; ``ha`` runs it replicated."""

    enabled: bool = True
    ha: bool = False

    @model_validator(mode="after")
    def _ha_needs_enabled(self) -> MonitoringFeature:
        if self.ha and not self.enabled:
            raise ValueError("ha: true needs enabled: true")
        return self


class BackupsFeature(SpecModel):
    """Velero; LatticeBackupPolicy documents schedule the backups."""

    enabled: bool = False
    storage_location: DnsSubdomain = "default"
    """The default Velero BackupStorageLocation."""


class LatticeClusterSpec(SpecModel):
    """Desired state of a LatticeCluster."""

    provider_ref: DnsSubdomain
    """Name of the CloudProvider whose credentials build this cluster."""
    provider: Provider
    nodes: Nodes = Field(default_factory=Nodes)
    networking: Networking = Field(default_factory=Networking)
    parent_config: ParentConfig | None = None
    services: bool = True
    """Run LatticeService workloads (mesh, policies)."""
    monitoring: MonitoringFeature = Field(default_factory=MonitoringFeature)
    backups: BackupsFeature = Field(default_factory=BackupsFeature)
    external_secrets: FeatureToggle = Field(default_factory=FeatureToggle)
    gpu: FeatureToggle = Field(default_factory=FeatureToggle)


ClusterPhase = Literal[
    "Pending", "Provisioning", "Enrolling", "Pivoting", "Ready", "Degraded", "Failed", "Deleting"
]
RolloutStage = Literal["Waiting", "ControlPlane", "Pools", "Done", "Refused"]


class NodeCount(SpecModel):
    """Nodes (Cluster API machines) of the control plane or of the workers: ready of desired."""

    ready: int = Field(default=0, ge=0)
    desired: int = Field(default=0, ge=0)


class PoolStatus(SpecModel):
    """One worker pool as its MachineDeployment reports it."""

    name: str
    ready: int = Field(default=0, ge=0)
    desired: int = Field(default=0, ge=0)
    version: str | None = None
    autoscaled: bool = False


class VersionRollout(SpecModel):
    """Where a Kubernetes version upgrade is: one minor at a time, control plane first."""

    target: str | None = None
    current: str | None = None
    """The version the whole control plane runs."""
    step: str | None = None
    """The version being rolled out now (the next minor on the way to ``target``)."""
    stage: RolloutStage | None = None
AddonHealth = Literal["Healthy", "Unhealthy", "Unknown"]


class AddonStatus(SpecModel):
    """One add-on of the cluster's plan as last observed (by the child's agent)."""

    name: str
    version: str
    health: AddonHealth = "Unknown"
    message: str | None = None


class LatticeClusterStatus(Status):
    """Observed state, written by the operator running in the cluster itself."""

    phase: ClusterPhase | None = None
    addons: list[AddonStatus] = Field(default_factory=list)
    """Every add-on of the plan (``compile.cluster.plan_addons``) with its health."""
    endpoint: str | None = None
    kubernetes_version: str | None = None
    ready_control_plane: int | None = None
    ready_workers: int | None = None
    control_plane: NodeCount | None = None
    workers: NodeCount | None = None
    pools: list[PoolStatus] = Field(default_factory=list)
    version_rollout: VersionRollout | None = None


class LatticeCluster(Resource):
    """A cluster-scoped LatticeCluster document."""

    namespaced: ClassVar[bool] = False
    plural: ClassVar[str] = "latticeclusters"
    short_names: ClassVar[tuple[str, ...]] = ("lc",)
    printer_columns: ClassVar[tuple[tuple[str, str, str], ...]] = (
        ("Phase", "string", ".status.phase"),
        ("Provider", "string", ".spec.providerRef"),
        ("Version", "string", ".spec.provider.kubernetes.version"),
        ("Endpoint", "string", ".status.endpoint"),
        ("Age", "date", ".metadata.creationTimestamp"),
    )

    kind: Literal["LatticeCluster"]
    spec: LatticeClusterSpec
    status: LatticeClusterStatus | None = None

    @classmethod
    def normalize(cls, data: Any) -> Normalized:
        """The original Lattice's spellings rewritten into ours (``spec.cluster_aliases``)."""
        return cluster_aliases.normalize_cluster(data)

    def check(self) -> list[SpecError]:
        """CIDR overlap, Proxmox pool size, node sizing per provider, GPU feature."""
        return [error.with_prefix("spec") for error in cluster_checks.check_spec(self.spec)]
