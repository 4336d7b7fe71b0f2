"""The cluster-autoscaler with its Cluster API cloud provider, rendered by Lattice.

Runs in the cluster it scales, in ``lattice-system`` on a control-plane node: after the
pivot that cluster also holds its own Cluster API objects, so one in-cluster config serves
both sides. It discovers node groups from the MachineDeployments in ``capi-<cluster>``
carrying the min/max-size annotations (``core``) and changes their ``scale`` subresource.
The image follows the Kubernetes minor version (``IMAGES``, pinned here).
"""

from __future__ import annotations

from typing import Any

from lattice_pulumi.compile import apiversions, labels
from lattice_pulumi.compile.cluster.objects import capi_namespace
from lattice_pulumi.errors import CompileError
from lattice_pulumi.spec.cluster import LatticeCluster, WorkerPool

__all__ = [
    "IMAGES",
    "NAME",
    "autoscaled_pools",
    "build_autoscaler",
    "image_for",
]

NAME = "cluster-autoscaler"
NAMESPACE = "lattice-system"
IMAGES = {
    minor: f"registry.k8s.io/autoscaling/cluster-autoscaler:v{minor}.0"
    for minor in ("1.30", "1.31", "1.32", "1.33", "1.34")
}
_READ = ["get", "list", "watch"]
_RULES: list[tuple[list[str], list[str], list[str]]] = [
    ([""], ["events", "endpoints"], ["create", "patch"]),
    ([""], ["pods/eviction"], ["create"]),
    ([""], ["pods/status"], ["update"]),
    ([""], ["nodes"], [*_READ, "update"]),
    (
        [""],
        [
            "namespaces",
            "pods",
            "services",
            "replicationcontrollers",
            "persistentvolumeclaims",
            "persistentvolumes",
        ],
        _READ,
    ),
    ([""], ["configmaps"], [*_READ, "create", "update", "delete"]),
    (["apps"], ["daemonsets", "replicasets", "statefulsets"], _READ),
    (["batch"], ["jobs", "cronjobs"], _READ),
    (["policy"], ["poddisruptionbudgets"], _READ),
    (
        ["storage.k8s.io"],
        ["storageclasses", "csinodes", "csidrivers", "csistoragecapacities", "volumeattachments"],
        _READ,
    ),
    (["coordination.k8s.io"], ["leases"], [*_READ, "create", "update"]),
    (["resource.k8s.io"], ["resourceclaims", "resourceslices", "deviceclasses"], _READ),
    (
        ["cluster.x-k8s.io"],
        [
            "machinedeployments",
            "machinedeployments/scale",
            "machinepools",
            "machinepools/scale",
            "machinesets",
            "machines",
        ],
        [*_READ, "update", "patch"],
    ),
    (["infrastructure.cluster.x-k8s.io"], ["*"], _READ),
]


def autoscaled_pools(cluster: LatticeCluster) -> list[tuple[str, WorkerPool]]:
    """Pools with ``min``/``max``, sorted by name."""
    pools = cluster.spec.nodes.worker_pools
    return [(name, pools[name]) for name in sorted(pools) if pools[name].min is not None]


def image_for(cluster: LatticeCluster) -> str:
    """The autoscaler image of the cluster's Kubernetes minor version."""
    version = cluster.spec.provider.kubernetes.version
    minor = ".".join(version.split(".")[:2])
    if minor not in IMAGES:
        raise CompileError(
            f"no cluster-autoscaler release is pinned for Kubernetes {minor}: "
            f"expected one of {', '.join(IMAGES)}",
            subject=f"cluster {cluster.name}",
            path=("spec", "provider", "kubernetes", "version"),
        )
    return IMAGES[minor]


def _object(kind: str, cluster: LatticeCluster, namespaced: bool = True) -> dict[str, Any]:
    name = NAME if namespaced else f"lattice-{NAME}"
    obj = apiversions.header(kind, name, NAMESPACE if namespaced else None)
    obj["metadata"]["labels"] = {
        **labels.cluster_labels(cluster.name),
        "app.kubernetes.io/name": NAME,
    }
    return obj


def build_autoscaler(cluster: LatticeCluster) -> list[dict[str, Any]]:
    """ServiceAccount, ClusterRole, ClusterRoleBinding, Deployment; none without autoscaling."""
    if not autoscaled_pools(cluster):
        return []
    account = _object("ServiceAccount", cluster)
    role = _object("ClusterRole", cluster, namespaced=False)
    role["rules"] = [
        {"apiGroups": groups, "resources": resources, "verbs": verbs}
        for groups, resources, verbs in _RULES
    ]
    binding = _object("ClusterRoleBinding", cluster, namespaced=False)
    binding["roleRef"] = {
        "apiGroup": "rbac.authorization.k8s.io",
        "kind": "ClusterRole",
        "name": role["metadata"]["name"],
    }
    binding["subjects"] = [{"kind": "ServiceAccount", "name": NAME, "namespace": NAMESPACE}]
    return [account, role, binding, _deployment(cluster)]


def _container(cluster: LatticeCluster) -> dict[str, Any]:
    discovery = f"clusterapi:namespace={capi_namespace(cluster)},clusterName={cluster.name}"
    return {
        "name": NAME,
        "image": image_for(cluster),
        "command": ["/cluster-autoscaler"],
        "args": [
            "--cloud-provider=clusterapi",
            f"--node-group-auto-discovery={discovery}",
            "--expander=least-waste",
            "--balance-similar-node-groups=true",
        ],
        "resources": {
            "requests": {"cpu": "100m", "memory": "300Mi"},
            "limits": {"memory": "600Mi"},
        },
        "securityContext": {
            "allowPrivilegeEscalation": False,
            "readOnlyRootFilesystem": True,
            "capabilities": {"drop": ["ALL"]},
        },
    }


def _deployment(cluster: LatticeCluster) -> dict[str, Any]:
    deployment = _object("Deployment", cluster)
    selector = {"app.kubernetes.io/name": NAME}
    deployment["spec"] = {
        "replicas": 1,
        "selector": {"matchLabels": selector},
        "template": {
            "metadata": {"labels": {**selector, **labels.cluster_labels(cluster.name)}},
            "spec": {
                "serviceAccountName": NAME,
                "nodeSelector": {"node-role.kubernetes.io/control-plane": ""},
                "tolerations": [
                    {"key": "node-role.kubernetes.io/control-plane", "effect": "NoSchedule"}
                ],
                "securityContext": {
                    "runAsNonRoot": True,
                    "runAsUser": 65532,
                    "seccompProfile": {"type": "RuntimeDefault"},
                },
                "containers": [_container(cluster)],
            },
        },
    }
    return deployment
