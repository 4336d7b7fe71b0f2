"""The operator's part of the bootstrap bundle: what runs ``lattice operator run`` in a child.

``compile_operator_objects(cluster_name, image)`` is pure and deterministic; the bundle
compiler (``compile.agent.compile_agent_bundle``) appends it after the agent, in apply
order: ServiceAccount, ClusterRole and ClusterRoleBinding ``lattice-operator``
(``OPERATOR_RULES``: the Lattice kinds it watches and reports on, the kinds the service
compiler emits, events), Role and RoleBinding in ``lattice-system`` (its Lease only),
NetworkPolicy (ingress to the probe/metrics port only; egress to DNS and the API server)
and the Deployment: one replica (``Recreate``: the Lease makes a second one a standby
that never gets ready, which would stall a rolling update), restricted security,
liveness ``/healthz``, readiness ``/readyz``, metrics ``/metrics`` on ``OPERATOR_PORT``.
The same image as the agent (``agent/Containerfile``), another command. The ClusterRole
also covers the operator's own cluster's Cluster API objects (``operator.cluster_self``).
"""

from __future__ import annotations

from typing import Any

from lattice_pulumi.compile import apiversions, labels

__all__ = [
    "LEASE_NAME",
    "OPERATOR_ARGS",
    "OPERATOR_NAME",
    "OPERATOR_PORT",
    "OPERATOR_RULES",
    "compile_operator_objects",
]

OPERATOR_NAME = "lattice-operator"
LEASE_NAME = OPERATOR_NAME  # the default of lattice operator run --lease-name
OPERATOR_ARGS = ("operator", "run")
OPERATOR_PORT = 8080
_NAMESPACE = "lattice-system"
_UID = 65532
_READ = ("get", "list", "watch")
_APPLY = ("get", "list", "watch", "create", "patch", "update", "delete")
# (apiGroups, resources, verbs, why)
OPERATOR_RULES: tuple[tuple[tuple[str, ...], tuple[str, ...], tuple[str, ...], str], ...] = (
    (
        ("lattice.dev",),
        (
            "latticeservices",
            "latticeexternalservices",
            "cedarpolicies",
            "secretproviders",
            "cloudproviders",
        ),
        (*_READ, "patch"),
        "watch the specs; kopf keeps its progress in their annotations",
    ),
    (
        ("lattice.dev",),
        (
            "latticeservices/status",
            "cedarpolicies/status",
            "secretproviders/status",
            "cloudproviders/status",
        ),
        ("get", "patch", "update"),
        "report status conditions and observedGeneration",
    ),
    (
        ("",),
        ("serviceaccounts", "configmaps", "persistentvolumeclaims", "services"),
        _APPLY,
        "apply and prune what compile_service emits",
    ),
    (("apps",), ("deployments",), _APPLY, "workloads"),
    (("policy",), ("poddisruptionbudgets",), _APPLY, "disruption budgets"),
    (("cilium.io",), ("ciliumnetworkpolicies",), _APPLY, "the mesh, layer 4"),
    (
        ("security.istio.io",),
        ("authorizationpolicies", "peerauthentications"),
        _APPLY,
        "the mesh, layer 7",
    ),
    (("networking.istio.io",), ("serviceentries",), _APPLY, "external services"),
    (
        ("gateway.networking.k8s.io",),
        ("gateways", "httproutes", "grpcroutes", "tcproutes", "referencegrants"),
        _APPLY,
        "ingress",
    ),
    (("cert-manager.io",), ("certificates",), _APPLY, "ingress certificates"),
    (("external-secrets.io",), ("externalsecrets",), _APPLY, "secrets by reference only"),
    (("keda.sh",), ("scaledobjects",), _APPLY, "autoscaling"),
    (("flagger.app",), ("canaries", "metrictemplates"), _APPLY, "progressive delivery"),
    (("lattice.dev",), ("latticeclusters",), _READ, "its own cluster's LatticeCluster"),
    (("lattice.dev",), ("latticeclusters/status",), ("get", "patch"), "node counts, rollout"),
    (("cluster.x-k8s.io",), ("clusters",), _READ, "its own Cluster API Cluster"),
    (("cluster.x-k8s.io",), ("machinedeployments",), (*_READ, "patch"), "pool replicas, version"),
    (
        ("cluster.x-k8s.io",),
        ("machinehealthchecks",),
        (*_READ, "create", "patch"),
        "keep the health checks the cluster compiler emits",
    ),
    (
        ("controlplane.cluster.x-k8s.io",),
        ("kubeadmcontrolplanes", "rke2controlplanes"),
        (*_READ, "patch"),
        "control plane replicas and version",
    ),
    (("",), ("secrets",), ("get",), "CloudProvider status: does the credentials Secret exist"),
    (("",), ("events",), ("create", "patch"), "events on the objects it reconciles"),
)


def _labels(cluster_name: str) -> dict[str, str]:
    return {
        **labels.cluster_labels(cluster_name),
        "app.kubernetes.io/name": OPERATOR_NAME,
        "app.kubernetes.io/component": "operator",
        "app.kubernetes.io/part-of": "lattice",
    }


def _object(kind: str, cluster_name: str, *, namespaced: bool = True) -> dict[str, Any]:
    obj = apiversions.header(kind, OPERATOR_NAME, _NAMESPACE if namespaced else None)
    obj["metadata"]["labels"] = _labels(cluster_name)
    return obj


def compile_operator_objects(cluster_name: str, image: str) -> list[dict[str, Any]]:
    """Every object of the child's operator, in apply order (module docstring)."""
    role = _object("ClusterRole", cluster_name, namespaced=False)
    role["rules"] = [
        {"apiGroups": list(groups), "resources": list(resources), "verbs": list(verbs)}
        for groups, resources, verbs, _why in OPERATOR_RULES
    ]
    lease_role = _object("Role", cluster_name)
    lease_role["rules"] = [
        {
            "apiGroups": ["coordination.k8s.io"],
            "resources": ["leases"],
            "resourceNames": [LEASE_NAME],
            "verbs": ["get", "update"],
        },
        # a create carries no name to restrict by; the operator creates only its Lease
        {"apiGroups": ["coordination.k8s.io"], "resources": ["leases"], "verbs": ["create"]},
    ]
    return [
        _object("ServiceAccount", cluster_name),
        role,
        _binding("ClusterRoleBinding", "ClusterRole", cluster_name),
        lease_role,
        _binding("RoleBinding", "Role", cluster_name),
        _network_policy(cluster_name),
        _deployment(cluster_name, image),
    ]


def _binding(kind: str, role_kind: str, cluster_name: str) -> dict[str, Any]:
    binding = _object(kind, cluster_name, namespaced=kind == "RoleBinding")
    binding["roleRef"] = {
        "apiGroup": "rbac.authorization.k8s.io",
        "kind": role_kind,
        "name": OPERATOR_NAME,
    }
    binding["subjects"] = [
        {"kind": "ServiceAccount", "name": OPERATOR_NAME, "namespace": _NAMESPACE}
    ]
    return binding


def _network_policy(cluster_name: str) -> dict[str, Any]:
    policy = _object("NetworkPolicy", cluster_name)
    dns = {
        "to": [
            {
                "namespaceSelector": {
                    "matchLabels": {"kubernetes.io/metadata.name": "kube-system"}
                },
                "podSelector": {"matchLabels": {"k8s-app": "kube-dns"}},
            }
        ],
        "ports": [{"protocol": p, "port": 53} for p in ("UDP", "TCP")],
    }
    policy["spec"] = {
        "podSelector": {"matchLabels": {"app.kubernetes.io/name": OPERATOR_NAME}},
        "policyTypes": ["Ingress", "Egress"],
        "ingress": [{"ports": [{"protocol": "TCP", "port": OPERATOR_PORT}]}],
        "egress": [dns, {"ports": [{"protocol": "TCP", "port": p} for p in (443, 6443)]}],
    }
    return policy


def _probe(path: str) -> dict[str, Any]:
    return {"httpGet": {"path": path, "port": "http"}, "periodSeconds": 10}


def _container(cluster_name: str, image: str) -> dict[str, Any]:
    return {
        "name": "operator",
        "image": image,
        "imagePullPolicy": "IfNotPresent",
        "command": ["lattice"],
        "args": list(OPERATOR_ARGS),
        "env": [
            # which LatticeCluster is the operator's own (operator.cluster_self)
            {"name": "LATTICE_CLUSTER_NAME", "value": cluster_name},
            {"name": "LATTICE_NAMESPACE", "value": _NAMESPACE},
            {"name": "LATTICE_OPERATOR_PORT", "value": str(OPERATOR_PORT)},
        ],
        "ports": [{"name": "http", "containerPort": OPERATOR_PORT, "protocol": "TCP"}],
        "livenessProbe": _probe("/healthz"),
        "readinessProbe": _probe("/readyz"),
        "resources": {
            "requests": {"cpu": "100m", "memory": "256Mi"},
            "limits": {"memory": "512Mi"},
        },
        "securityContext": {
            "allowPrivilegeEscalation": False,
            "readOnlyRootFilesystem": True,
            "runAsNonRoot": True,
            "capabilities": {"drop": ["ALL"]},
        },
        "volumeMounts": [{"name": "tmp", "mountPath": "/tmp"}],
    }


def _deployment(cluster_name: str, image: str) -> dict[str, Any]:
    deployment = _object("Deployment", cluster_name)
    deployment["spec"] = {
        "replicas": 1,
        "strategy": {"type": "Recreate"},
        "selector": {"matchLabels": {"app.kubernetes.io/name": OPERATOR_NAME}},
        "template": {
            "metadata": {
                "labels": _labels(cluster_name),
                "annotations": {
                    "prometheus.io/scrape": "true",
                    "prometheus.io/port": str(OPERATOR_PORT),
                    "prometheus.io/path": "/metrics",
                },
            },
            "spec": {
                "serviceAccountName": OPERATOR_NAME,
                "securityContext": {
                    "runAsNonRoot": True,
                    "runAsUser": _UID,
                    "runAsGroup": _UID,
                    "seccompProfile": {"type": "RuntimeDefault"},
                },
                "containers": [_container(cluster_name, image)],
                "volumes": [{"name": "tmp", "emptyDir": {"sizeLimit": "16Mi"}}],
            },
        },
    }
    return deployment
