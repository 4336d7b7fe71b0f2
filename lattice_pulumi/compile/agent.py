"""The bootstrap bundle of a child cluster: what its parent's cell serves at first boot.

``compile_agent_bundle(cluster_name, parent)`` is pure and deterministic. The child's first
control-plane node fetches it (``GET <enrolment>/v1/bootstrap/<cluster>``, see
``compile.cluster.bootstrap``) and applies it server-side. In apply order:

1. Namespace ``lattice-system`` (Pod Security ``restricted`` enforced, audited and warned);
2. the Lattice CRDs (``spec.crds.build_crds``), so the agent and operator find their kinds;
3. ServiceAccount, ClusterRole and ClusterRoleBinding ``lattice-agent`` (``RULES``), and
   Role and RoleBinding ``lattice-agent`` in ``lattice-system`` (``NAMESPACED_RULES``): the
   agent's own credentials Secret, ``get``/``patch`` of ``lattice-bootstrap`` (to remove
   the burnt token) and nothing else of the namespace;
4. ConfigMap ``lattice-agent``: the parent's CA bundle (public) and its two endpoints;
5. NetworkPolicy ``lattice-agent``: no ingress; egress to DNS, the parent and the API server;
6. Deployment ``lattice-agent``: one replica of ``lattice agent run`` (``AGENT_IMAGE``);
7. the operator (``compile.operator_bundle``): ServiceAccount, RBAC, NetworkPolicy and
   Deployment ``lattice-operator`` running ``lattice operator run`` from the same image.

The one-time bootstrap token never appears here: the pod reads it from the Secret
``lattice-system/lattice-bootstrap`` (key ``token``) that the post-boot script creates
before it applies this bundle. The agent enrols with it (``POST /v1/enrol``) when its
credentials directory is empty and keeps key and certificates in a memory-backed emptyDir
and in the Secret ``lattice-agent-credentials`` (``CREDENTIALS_SECRET``), from which a
replaced pod reloads them (the token is single-use). Once a session with the cell was
welcomed and those credentials are saved, the agent removes the burnt ``token`` key from
``lattice-bootstrap`` (``ca.crt`` and the Secret stay): the Deployment's reference to that
key is therefore ``optional``, or a replaced pod could not start.
Every object carries ``labels.cluster_labels`` and ``app.kubernetes.io/name: lattice-agent``.
"""

from __future__ import annotations

import copy
import ipaddress
import re
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from lattice_pulumi import __version__
from lattice_pulumi.compile import apiversions, labels
from lattice_pulumi.compile.operator_bundle import compile_operator_objects
from lattice_pulumi.errors import CompileError
from lattice_pulumi.spec.crds import build_crds

__all__ = [
    "AGENT_ARGS",
    "AGENT_COMMAND",
    "AGENT_GID",
    "AGENT_IMAGE",
    "AGENT_IMAGE_REPOSITORY",
    "AGENT_UID",
    "BOOTSTRAP_SECRET",
    "CONFIG_NAME",
    "CREDENTIALS_DIR",
    "CREDENTIALS_SECRET",
    "DISTRIBUTED_RESOURCES",
    "NAME",
    "NAMESPACE",
    "NAMESPACED_RULES",
    "PARENT_CA_FILE",
    "RULES",
    "AgentParent",
    "compile_agent_bundle",
]

NAME = "lattice-agent"
NAMESPACE = "lattice-system"
CONFIG_NAME = NAME
BOOTSTRAP_SECRET = "lattice-bootstrap"  # created by compile.cluster.bootstrap's script
AGENT_IMAGE_REPOSITORY = "ghcr.io/lattice-dev/lattice-agent"
# The ONE place the agent image is pinned: the release of this package (agent/Containerfile).
AGENT_IMAGE = f"{AGENT_IMAGE_REPOSITORY}:{__version__}"
# What agent/Containerfile sets as ENTRYPOINT and USER (a unit test keeps them in step).
AGENT_COMMAND = ("lattice",)
AGENT_ARGS = ("agent", "run")
AGENT_UID = 65532
AGENT_GID = 65532
CREDENTIALS_DIR = "/var/lib/lattice/agent"
# Same value as agent.secret_store.CREDENTIALS_SECRET (compile may not import the agent;
# a unit test keeps the two in step).
CREDENTIALS_SECRET = "lattice-agent-credentials"
PARENT_DIR = "/etc/lattice/parent"
PARENT_CA_FILE = f"{PARENT_DIR}/ca.crt"

_READ = ("get", "list", "watch")
_LATTICE_GROUP = "lattice.dev"
# The kinds the parent's cell distributes (protocol.distribution.DISTRIBUTED_KINDS; compile
# may not import the protocol, a unit test keeps the two in step). The agent lists them in
# every namespace (to tell its own from local objects), creates with POST, updates with
# server-side apply and deletes; a mid-level cell running as this account watches them.
DISTRIBUTED_RESOURCES = ("cedarpolicies", "cloudproviders", "secretproviders")
# (apiGroups, resources, verbs, why).
RULES: tuple[tuple[tuple[str, ...], tuple[str, ...], tuple[str, ...], str], ...] = (
    (("",), ("nodes",), _READ, "health: ready control-plane and worker nodes in heartbeats"),
    (("",), ("pods",), _READ, "health: failing system pods in heartbeats"),
    (("",), ("namespaces",), _READ, "health: which namespaces exist (status requests)"),
    (
        (_LATTICE_GROUP,),
        DISTRIBUTED_RESOURCES,
        ("list", "watch", "create", "patch", "delete"),
        "distribution: apply what the parent hands down (POST, SSA), prune it, and hand it on",
    ),
    (
        ("",),
        ("users", "groups", "serviceaccounts"),
        ("impersonate",),
        "API proxy: requests run as the caller the parent authenticated, never as the agent",
    ),
)
# Rules of the Role in NAMESPACE: (apiGroups, resources, resourceNames, verbs, why).
# The agent saves its credentials with server-side apply (a PATCH naming the Secret), which
# the API server authorises as "patch" and, when the Secret does not exist yet, as "create"
# with the Secret's name: so resourceNames holds for every verb here. A plain POST create
# carries no name and would need an unrestricted "create" on secrets; the agent never
# makes one, so that is not granted.
NAMESPACED_RULES: tuple[
    tuple[tuple[str, ...], tuple[str, ...], tuple[str, ...], tuple[str, ...], str], ...
] = (
    (
        ("",),
        ("secrets",),
        (CREDENTIALS_SECRET,),
        ("get", "create", "update", "patch"),
        "durable identity: the agent's key and certificates survive a replaced pod",
    ),
    (
        ("",),
        ("secrets",),
        (BOOTSTRAP_SECRET,),
        ("get", "patch"),
        "hygiene: remove the burnt one-time token once the credentials are kept (JSON patch)",
    ),
)
_DNS_PORT = 53
_API_SERVER_PORTS = (443, 6443)  # the kubernetes Service, and the endpoint behind it
_NAME_RE = re.compile(r"^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$")


@dataclass(frozen=True)
class AgentParent:
    """What a child's agent needs to know about its parent's cell (nothing secret)."""

    endpoint: str
    """``host:port`` of the cell's gRPC server, as the child reaches it."""
    enrol_url: str
    """``https://host:port/v1/enrol`` of the cell's enrolment server."""
    ca_pem: str
    """The cell's CA bundle (PEM certificates only): pinned for enrolment and gRPC."""
    image: str = AGENT_IMAGE
    heartbeat_interval: float = 10.0
    tls_server_name: str | None = None
    """Name to verify in the cell certificate when the endpoint's host is not in it."""


def compile_agent_bundle(cluster_name: str, parent: AgentParent) -> list[dict[str, Any]]:
    """Every object of the child's Lattice agent, in apply order (module docstring)."""
    _check(cluster_name, parent)
    return [
        _namespace(cluster_name),
        *_crds(cluster_name),
        _object("ServiceAccount", cluster_name),
        _cluster_role(cluster_name),
        _cluster_role_binding(cluster_name),
        _role(cluster_name),
        _role_binding(cluster_name),
        _config_map(cluster_name, parent),
        _network_policy(cluster_name, parent),
        _deployment(cluster_name, parent),
        *compile_operator_objects(cluster_name, parent.image),
    ]


def _check(cluster_name: str, parent: AgentParent) -> None:
    subject = f"agent bundle of {cluster_name!r}"
    problems: list[tuple[str, str]] = []
    if not _NAME_RE.match(cluster_name):
        problems.append(("clusterName", "expected a lowercase RFC 1123 label"))
    try:
        _split_endpoint(parent.endpoint)
    except ValueError as exc:
        problems.append(("endpoint", str(exc)))
    url = urlsplit(parent.enrol_url)
    if url.scheme != "https" or not url.hostname:
        problems.append(("enrolUrl", f"expected an https:// URL, got {parent.enrol_url!r}"))
    if "-----BEGIN CERTIFICATE-----" not in parent.ca_pem or "PRIVATE KEY" in parent.ca_pem:
        problems.append(("caPem", "expected PEM certificates and nothing else"))
    if not parent.image or any(c.isspace() for c in parent.image):
        problems.append(("image", f"not an image reference: {parent.image!r}"))
    if not parent.heartbeat_interval > 0:
        problems.append(("heartbeatInterval", "must be positive"))
    if problems:
        field, message = problems[0]
        more = "".join(f"; {f}: {m}" for f, m in problems[1:])
        raise CompileError(message + more, subject=subject, path=(field,))


def _split_endpoint(endpoint: str) -> tuple[str, int]:
    host, sep, port = endpoint.rpartition(":")
    host = host.removeprefix("[").removesuffix("]")
    if not sep or not host or not port.isdigit() or not 0 < int(port) < 65536:
        raise ValueError(f"expected host:port, got {endpoint!r}")
    return host, int(port)


def _component_labels(cluster_name: str) -> dict[str, str]:
    return {
        **labels.cluster_labels(cluster_name),
        "app.kubernetes.io/name": NAME,
        "app.kubernetes.io/component": "agent",
        "app.kubernetes.io/part-of": "lattice",
    }


def _selector() -> dict[str, str]:
    return {"app.kubernetes.io/name": NAME}


def _object(kind: str, cluster_name: str, *, namespaced: bool = True) -> dict[str, Any]:
    obj = apiversions.header(kind, NAME, NAMESPACE if namespaced else None)
    obj["metadata"]["labels"] = _component_labels(cluster_name)
    return obj


def _namespace(cluster_name: str) -> dict[str, Any]:
    # The same labels as compile.cluster.addons.build_namespaces: two appliers agree.
    namespace = apiversions.header("Namespace", NAMESPACE)
    namespace["metadata"]["labels"] = {
        **labels.cluster_labels(cluster_name),
        "pod-security.kubernetes.io/enforce": "restricted",
        "pod-security.kubernetes.io/audit": "restricted",
        "pod-security.kubernetes.io/warn": "restricted",
    }
    return namespace


def _crds(cluster_name: str) -> list[dict[str, Any]]:
    result = []
    for crd in build_crds():
        crd = copy.deepcopy(crd)
        crd["metadata"]["labels"] = {
            **crd["metadata"].get("labels", {}),
            **labels.cluster_labels(cluster_name),
        }
        result.append(crd)
    return result


def _cluster_role(cluster_name: str) -> dict[str, Any]:
    role = _object("ClusterRole", cluster_name, namespaced=False)
    role["rules"] = [
        {"apiGroups": list(groups), "resources": list(resources), "verbs": list(verbs)}
        for groups, resources, verbs, _why in RULES
    ]
    return role


def _cluster_role_binding(cluster_name: str) -> dict[str, Any]:
    binding = _object("ClusterRoleBinding", cluster_name, namespaced=False)
    binding["roleRef"] = {
        "apiGroup": "rbac.authorization.k8s.io",
        "kind": "ClusterRole",
        "name": NAME,
    }
    binding["subjects"] = [{"kind": "ServiceAccount", "name": NAME, "namespace": NAMESPACE}]
    return binding


def _role(cluster_name: str) -> dict[str, Any]:
    role = _object("Role", cluster_name)
    role["rules"] = [
        {
            "apiGroups": list(groups),
            "resources": list(resources),
            "resourceNames": list(names),
            "verbs": list(verbs),
        }
        for groups, resources, names, verbs, _why in NAMESPACED_RULES
    ]
    return role


def _role_binding(cluster_name: str) -> dict[str, Any]:
    binding = _object("RoleBinding", cluster_name)
    binding["roleRef"] = {"apiGroup": "rbac.authorization.k8s.io", "kind": "Role", "name": NAME}
    binding["subjects"] = [{"kind": "ServiceAccount", "name": NAME, "namespace": NAMESPACE}]
    return binding


def _config_map(cluster_name: str, parent: AgentParent) -> dict[str, Any]:
    config = _object("ConfigMap", cluster_name)
    data = {
        "ca.crt": parent.ca_pem,
        "endpoint": parent.endpoint,
        "enrol-url": parent.enrol_url,
    }
    if parent.tls_server_name:
        data["tls-server-name"] = parent.tls_server_name
    config["data"] = data
    return config


def _parent_peer(host: str) -> list[dict[str, Any]]:
    """The parent as a NetworkPolicy peer: its address when literal, anywhere otherwise."""
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        return []  # a DNS name: core NetworkPolicy cannot name it, so the ports alone limit
    return [{"ipBlock": {"cidr": f"{address}/{address.max_prefixlen}"}}]


def _egress(parent: AgentParent) -> list[dict[str, Any]]:
    host, port = _split_endpoint(parent.endpoint)
    url = urlsplit(parent.enrol_url)
    enrol_host, enrol_port = url.hostname or "", url.port or 443
    dns = {
        "to": [
            {
                "namespaceSelector": {
                    "matchLabels": {"kubernetes.io/metadata.name": "kube-system"}
                },
                "podSelector": {"matchLabels": {"k8s-app": "kube-dns"}},
            }
        ],
        "ports": [{"protocol": p, "port": _DNS_PORT} for p in ("UDP", "TCP")],
    }
    rules = [dns]
    targets = {(host, port), (enrol_host, enrol_port)}
    for target_host, target_port in sorted(targets):
        rule: dict[str, Any] = {"ports": [{"protocol": "TCP", "port": target_port}]}
        peers = _parent_peer(target_host)
        if peers:
            rule["to"] = peers
        rules.append(rule)
    # The API server's address is the node's, unknown here: its ports only.
    rules.append({"ports": [{"protocol": "TCP", "port": p} for p in _API_SERVER_PORTS]})
    return rules


def _network_policy(cluster_name: str, parent: AgentParent) -> dict[str, Any]:
    policy = _object("NetworkPolicy", cluster_name)
    policy["spec"] = {
        "podSelector": {"matchLabels": _selector()},
        "policyTypes": ["Ingress", "Egress"],
        "ingress": [],  # the agent dials out; nothing dials in
        "egress": _egress(parent),
    }
    return policy


def _config_env(name: str, key: str) -> dict[str, Any]:
    return {"name": name, "valueFrom": {"configMapKeyRef": {"name": CONFIG_NAME, "key": key}}}


def _env(cluster_name: str, parent: AgentParent) -> list[dict[str, Any]]:
    """The ``LATTICE_*`` variables of ``lattice agent run`` (cli/fleet_run.py)."""
    env = [
        {"name": "LATTICE_CLUSTER_NAME", "value": cluster_name},
        _config_env("LATTICE_PARENT_ENDPOINT", "endpoint"),
        _config_env("LATTICE_ENROL_URL", "enrol-url"),
        {"name": "LATTICE_PARENT_CA", "value": PARENT_CA_FILE},
        {"name": "LATTICE_AGENT_CREDENTIALS_DIR", "value": CREDENTIALS_DIR},
        {"name": "LATTICE_NAMESPACE", "value": NAMESPACE},
        {"name": "LATTICE_CREDENTIALS_SECRET", "value": CREDENTIALS_SECRET},
        {"name": "LATTICE_HEARTBEAT_INTERVAL", "value": f"{parent.heartbeat_interval:g}"},
        {
            "name": "LATTICE_BOOTSTRAP_TOKEN",
            # optional: the agent removes the key once enrolled (module docstring)
            "valueFrom": {
                "secretKeyRef": {"name": BOOTSTRAP_SECRET, "key": "token", "optional": True}
            },
        },
    ]
    if parent.tls_server_name:
        env.append(_config_env("LATTICE_TLS_SERVER_NAME", "tls-server-name"))
    return env


def _container(cluster_name: str, parent: AgentParent) -> dict[str, Any]:
    return {
        "name": "agent",
        "image": parent.image,
        "imagePullPolicy": "IfNotPresent",
        "command": list(AGENT_COMMAND),
        "args": list(AGENT_ARGS),
        "env": _env(cluster_name, parent),
        "resources": {
            "requests": {"cpu": "50m", "memory": "128Mi"},
            "limits": {"memory": "256Mi"},
        },
        "securityContext": {
            "allowPrivilegeEscalation": False,
            "readOnlyRootFilesystem": True,
            "runAsNonRoot": True,
            "capabilities": {"drop": ["ALL"]},
        },
        "volumeMounts": [
            {"name": "credentials", "mountPath": CREDENTIALS_DIR},
            {"name": "parent", "mountPath": PARENT_DIR, "readOnly": True},
            {"name": "tmp", "mountPath": "/tmp"},
        ],
    }


def _deployment(cluster_name: str, parent: AgentParent) -> dict[str, Any]:
    deployment = _object("Deployment", cluster_name)
    deployment["spec"] = {
        "replicas": 1,
        # One session per cluster identity: never two agents at once.
        "strategy": {"type": "Recreate"},
        "selector": {"matchLabels": _selector()},
        "template": {
            "metadata": {"labels": _component_labels(cluster_name)},
            "spec": {
                "serviceAccountName": NAME,
                "tolerations": [
                    {"key": "node-role.kubernetes.io/control-plane", "effect": "NoSchedule"}
                ],
                "securityContext": {
                    "runAsNonRoot": True,
                    "runAsUser": AGENT_UID,
                    "runAsGroup": AGENT_GID,
                    "fsGroup": AGENT_GID,
                    "seccompProfile": {"type": "RuntimeDefault"},
                },
                "containers": [_container(cluster_name, parent)],
                "volumes": [
                    # Private key and certificates: memory here, durable in CREDENTIALS_SECRET.
                    {"name": "credentials", "emptyDir": {"medium": "Memory", "sizeLimit": "1Mi"}},
                    {
                        "name": "parent",
                        "configMap": {
                            "name": CONFIG_NAME,
                            "items": [{"key": "ca.crt", "path": "ca.crt"}],
                        },
                    },
                    {"name": "tmp", "emptyDir": {"sizeLimit": "16Mi"}},
                ],
            },
        },
    }
    return deployment
