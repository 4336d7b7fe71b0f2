"""What a compiler knows beyond the spec it compiles: the cluster, its neighbours, the rules.

A ``CompileContext`` is plain frozen data plus the authorizer; compilers read it and never
change it, so one context can serve many compiles (and many threads).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from types import MappingProxyType

from lattice_pulumi.policy.authorizer import Authorizer, CedarAuthorizer
from lattice_pulumi.spec.cluster import LatticeCluster
from lattice_pulumi.spec.external import LatticeExternalService
from lattice_pulumi.spec.provisioners import Provisioner
from lattice_pulumi.spec.service import LatticeService

__all__ = ["ClusterInfo", "CompileContext", "default_authorizer", "service_key"]


def service_key(namespace: str, name: str) -> str:
    """How services are named across the project: ``namespace/name``."""
    return f"{namespace}/{name}"


@dataclass(frozen=True)
class ClusterInfo:
    """The cluster the manifests are for."""

    name: str = "local"
    provider: str = "docker"
    environment: str = "dev"
    region: str = ""
    domain: str = "cluster.local"
    trust_domain: str = "cluster.local"
    kubernetes_version: str = "1.34.0"
    monitoring: bool = False
    backups: bool = False
    metrics_endpoint: str = "http://vmselect-lattice.monitoring.svc:8481/select/0/prometheus"
    gateway_class: str = "istio"
    labels: Mapping[str, str] = field(default_factory=lambda: MappingProxyType({}))

    @classmethod
    def from_cluster(cls, cluster: LatticeCluster) -> ClusterInfo:
        """Facts of a LatticeCluster (environment and region from labels when set)."""
        spec = cluster.spec
        config = spec.provider.config
        labels = dict(cluster.metadata.labels)
        region = config.aws.region if config.aws is not None else ""
        return cls(
            name=cluster.name,
            provider=config.type,
            environment=labels.get("lattice.dev/environment", labels.get("environment", "dev")),
            region=labels.get("lattice.dev/region", region),
            kubernetes_version=spec.provider.kubernetes.version,
            monitoring=spec.monitoring.enabled,
            backups=spec.backups.enabled,
            labels=MappingProxyType(labels),
        )


def default_authorizer() -> Authorizer:
    """An authorizer with no policies: every override and secret path is denied."""
    return CedarAuthorizer()


@dataclass(frozen=True)
class CompileContext:
    """Cluster facts, the services and external services known, images, and the authorizer.

    ``opaque_marker``: text containing it stands for a value the compiler cannot see (a
    Pulumi Output, maybe secret); such variables go to a Kubernetes Secret, never a ConfigMap.
    ``provisioners``: Score resource provisioners, first match wins (see ``compile.provision``).
    """

    cluster: ClusterInfo = field(default_factory=ClusterInfo)
    services: Mapping[str, LatticeService] = field(default_factory=dict)
    external_services: Mapping[str, LatticeExternalService] = field(default_factory=dict)
    images: Mapping[str, str] = field(default_factory=dict)
    authorizer: Authorizer = field(default_factory=default_authorizer)
    opaque_marker: str | None = None
    provisioners: tuple[Provisioner, ...] = ()

    @classmethod
    def of(
        cls,
        objects: list[object],
        cluster: ClusterInfo | None = None,
        authorizer: Authorizer | None = None,
        images: Mapping[str, str] | None = None,
        provisioners: Iterable[Provisioner] = (),
    ) -> CompileContext:
        """A context knowing every service and external service in ``objects``."""
        services = {
            service_key(o.namespace, o.name): o for o in objects if isinstance(o, LatticeService)
        }
        externals = {
            service_key(o.namespace, o.name): o
            for o in objects
            if isinstance(o, LatticeExternalService)
        }
        return cls(
            cluster=cluster or ClusterInfo(),
            services=services,
            external_services=externals,
            images=images or {},
            authorizer=authorizer or default_authorizer(),
            provisioners=tuple(provisioners),
        )
