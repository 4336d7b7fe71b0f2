"""Names, labels and references shared by every Cluster API builder of one cluster.

Every object ``compile_cluster`` emits is made here (``new_object``): ``apiVersion`` from
``apiversions``, namespace ``capi-<cluster>`` (cluster-scoped kinds carry none), the Lattice
ownership labels plus ``cluster.x-k8s.io/cluster-name``. Machine and bootstrap templates are
immutable in Cluster API (a change needs a new template that the owner then points at), so
their names end with a short hash of their spec (``template_name``): a changed pool rolls,
an unchanged one keeps its name, and compiling twice gives the same names.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from typing import Any, Literal

from lattice_pulumi.compile import apiversions, labels
from lattice_pulumi.spec.cluster import LatticeCluster, RootVolume, WorkerPool

__all__ = [
    "CLUSTER_NAME_LABEL",
    "CONTROL_PLANE_LABEL",
    "DEPLOYMENT_NAME_LABEL",
    "POOL_LABEL",
    "NodeGroup",
    "capi_namespace",
    "control_plane_group",
    "control_plane_name",
    "new_object",
    "object_ref",
    "pool_group",
    "pool_name",
    "template_name",
    "typed_ref",
]

CLUSTER_NAME_LABEL = "cluster.x-k8s.io/cluster-name"
CONTROL_PLANE_LABEL = "cluster.x-k8s.io/control-plane"
DEPLOYMENT_NAME_LABEL = "cluster.x-k8s.io/deployment-name"
POOL_LABEL = "lattice.dev/pool"
_CLUSTER_SCOPED = frozenset(
    {
        "AWSClusterRoleIdentity",
        "AWSClusterStaticIdentity",
        "ClusterRole",
        "ClusterRoleBinding",
        "Namespace",
        "OpenStackClusterIdentity",
    }
)


@dataclass(frozen=True)
class NodeGroup:
    """The control plane or one worker pool, as the machine-template builders see it."""

    role: Literal["control-plane", "worker"]
    name: str
    """``control-plane`` or the pool's name."""
    instance_type: str | None
    root_volume: RootVolume | None
    gpu: bool = False


def capi_namespace(cluster: LatticeCluster) -> str:
    """Where the cluster's Cluster API objects live on its management cluster."""
    return f"capi-{cluster.name}"


def control_plane_name(cluster: LatticeCluster) -> str:
    return f"{cluster.name}-control-plane"


def pool_name(cluster: LatticeCluster, pool: str) -> str:
    """The MachineDeployment (and health check) of ``pool``."""
    return f"{cluster.name}-{pool}"


def control_plane_group(cluster: LatticeCluster) -> NodeGroup:
    plane = cluster.spec.nodes.control_plane
    return NodeGroup("control-plane", "control-plane", plane.instance_type, plane.root_volume)


def pool_group(name: str, pool: WorkerPool) -> NodeGroup:
    return NodeGroup("worker", name, pool.instance_type, pool.root_volume, pool.gpu)


def new_object(kind: str, name: str, cluster: LatticeCluster) -> dict[str, Any]:
    """A new object of ``kind`` for ``cluster``: header, namespace and ownership labels."""
    namespace = None if kind in _CLUSTER_SCOPED else capi_namespace(cluster)
    obj = apiversions.header(kind, name, namespace)
    obj["metadata"]["labels"] = {
        **labels.cluster_labels(cluster.name),
        CLUSTER_NAME_LABEL: cluster.name,
    }
    return obj


def typed_ref(kind: str, name: str) -> dict[str, str]:
    """A Cluster API v1beta2 reference: ``{apiGroup, kind, name}`` (no version)."""
    return {"apiGroup": apiversions.api_group(kind), "kind": kind, "name": name}


def object_ref(kind: str, name: str) -> dict[str, str]:
    """A core ObjectReference (``{apiVersion, kind, name}``), as v1beta1 APIs expect."""
    return {"apiVersion": apiversions.API_VERSIONS[kind], "kind": kind, "name": name}


def template_name(base: str, spec: Any) -> str:
    """``base`` plus the first 8 hex digits of the SHA-256 of ``spec`` (canonical JSON)."""
    canonical = json.dumps(spec, sort_keys=True, separators=(",", ":"))
    return f"{base}-{hashlib.sha256(canonical.encode()).hexdigest()[:8]}"
