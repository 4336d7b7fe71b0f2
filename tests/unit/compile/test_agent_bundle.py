"""The child's bootstrap bundle: the agent's objects, valid, deterministic and token-free."""

from __future__ import annotations

import json
import typing
from dataclasses import replace
from typing import Any

import pytest
import typer

from lattice_pulumi import pki
from lattice_pulumi.cli import fleet_run
from lattice_pulumi.compile import agent, labels
from lattice_pulumi.compile.agent import AgentParent, compile_agent_bundle
from lattice_pulumi.errors import CompileError
from lattice_pulumi.protocol.distribution import DISTRIBUTED_KINDS
from lattice_pulumi.spec.crds import build_crds
from tests.manifests import assert_valid

CA = pki.CertificateAuthority.create("parent", curve="P-256").certificate_pem().decode()
PARENT = AgentParent(
    endpoint="cell.example.com:50051",
    enrol_url="https://cell.example.com:8443/v1/enrol",
    ca_pem=CA,
)


def _one(objects: list[dict[str, Any]], kind: str, name: str = "lattice-agent") -> dict[str, Any]:
    found = [o for o in objects if o["kind"] == kind and o["metadata"]["name"] in (name, kind)]
    if kind in ("Namespace", "CustomResourceDefinition"):
        found = [o for o in objects if o["kind"] == kind]
    assert len(found) == 1, f"{len(found)} {kind}"
    return found[0]


def _container(objects: list[dict[str, Any]]) -> dict[str, Any]:
    containers = _one(objects, "Deployment")["spec"]["template"]["spec"]["containers"]
    assert len(containers) == 1
    return dict(containers[0])


def _env(objects: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    return {e["name"]: e for e in _container(objects)["env"]}


def test_bundle_holds_the_agent_objects_in_apply_order() -> None:
    objects = compile_agent_bundle("alpha", PARENT)
    crds = build_crds()
    assert [o["kind"] for o in objects] == [
        "Namespace",
        *["CustomResourceDefinition"] * len(crds),
        "ServiceAccount",
        "ClusterRole",
        "ClusterRoleBinding",
        "Role",
        "RoleBinding",
        "ConfigMap",
        "NetworkPolicy",
        "Deployment",
        *["ServiceAccount", "ClusterRole", "ClusterRoleBinding", "Role", "RoleBinding"],
        *["NetworkPolicy", "Deployment"],
    ]
    assert [o["metadata"]["name"] for o in objects[1 : 1 + len(crds)]] == [
        c["metadata"]["name"] for c in crds
    ]
    agent_objects = objects[1 + len(crds) : 9 + len(crds)]
    assert {o["metadata"]["name"] for o in objects[9 + len(crds) :]} == {"lattice-operator"}
    for obj in agent_objects:
        assert obj["metadata"]["name"] == "lattice-agent"
        if obj["kind"] not in ("ClusterRole", "ClusterRoleBinding"):
            assert obj["metadata"]["namespace"] == "lattice-system"


def test_every_object_is_valid_and_labelled() -> None:
    objects = compile_agent_bundle("alpha", PARENT)
    assert_valid(objects)
    for obj in objects:
        assert labels.cluster_labels("alpha").items() <= obj["metadata"]["labels"].items()


def test_namespace_enforces_restricted_pod_security() -> None:
    namespace = compile_agent_bundle("alpha", PARENT)[0]
    assert namespace["metadata"]["name"] == "lattice-system"
    for mode in ("enforce", "audit", "warn"):
        assert namespace["metadata"]["labels"][f"pod-security.kubernetes.io/{mode}"] == (
            "restricted"
        )


def test_bundle_is_deterministic_and_not_shared() -> None:
    first = compile_agent_bundle("alpha", PARENT)
    second = compile_agent_bundle("alpha", PARENT)
    assert json.dumps(first) == json.dumps(second)
    first[-1]["spec"]["replicas"] = 5
    assert compile_agent_bundle("alpha", PARENT)[-1]["spec"]["replicas"] == 1
    assert first[-1]["metadata"]["name"] == "lattice-operator"


def test_the_token_is_only_referenced() -> None:
    issued = pki.BootstrapTokens().issue("alpha")
    text = json.dumps(compile_agent_bundle("alpha", PARENT))
    assert issued.token not in text
    assert "lt1." not in text
    assert "PRIVATE KEY" not in text
    assert _env(compile_agent_bundle("alpha", PARENT))["LATTICE_BOOTSTRAP_TOKEN"] == {
        "name": "LATTICE_BOOTSTRAP_TOKEN",
        # optional: the agent removes the key once its credentials are kept
        "valueFrom": {
            "secretKeyRef": {"name": "lattice-bootstrap", "key": "token", "optional": True}
        },
    }


def test_config_map_carries_the_parent_facts() -> None:
    config = _one(compile_agent_bundle("alpha", PARENT), "ConfigMap")
    assert config["data"] == {
        "ca.crt": CA,
        "endpoint": "cell.example.com:50051",
        "enrol-url": "https://cell.example.com:8443/v1/enrol",
    }


def _agent_run_envvars() -> set[str]:
    hints = typing.get_type_hints(fleet_run.run_agent, include_extras=True)
    names = set()
    for hint in hints.values():
        for meta in getattr(hint, "__metadata__", ()):
            if isinstance(meta, typer.models.OptionInfo) and isinstance(meta.envvar, str):
                names.add(meta.envvar)
    return names


def test_environment_is_what_lattice_agent_run_reads() -> None:
    parent = replace(PARENT, heartbeat_interval=2.5, tls_server_name="cell.internal")
    env = _env(compile_agent_bundle("alpha", parent))
    # LATTICE_BOOTSTRAP_TOKEN is read from os.environ by run_agent, not through an option.
    assert set(env) - {"LATTICE_BOOTSTRAP_TOKEN"} <= _agent_run_envvars()
    assert env["LATTICE_CLUSTER_NAME"]["value"] == "alpha"
    assert env["LATTICE_HEARTBEAT_INTERVAL"]["value"] == "2.5"
    assert env["LATTICE_PARENT_CA"]["value"] == agent.PARENT_CA_FILE
    assert env["LATTICE_PARENT_ENDPOINT"]["valueFrom"]["configMapKeyRef"]["key"] == "endpoint"
    assert env["LATTICE_ENROL_URL"]["valueFrom"]["configMapKeyRef"]["key"] == "enrol-url"
    assert env["LATTICE_TLS_SERVER_NAME"]["valueFrom"]["configMapKeyRef"]["key"] == (
        "tls-server-name"
    )
    assert "LATTICE_TLS_SERVER_NAME" not in _env(compile_agent_bundle("alpha", PARENT))


def test_deployment_runs_restricted_with_memory_backed_credentials() -> None:
    objects = compile_agent_bundle("alpha", PARENT)
    deployment = _one(objects, "Deployment")
    pod = deployment["spec"]["template"]["spec"]
    container = _container(objects)
    assert deployment["spec"]["replicas"] == 1
    assert deployment["spec"]["strategy"] == {"type": "Recreate"}
    assert container["image"] == agent.AGENT_IMAGE
    assert container["command"] == ["lattice"]
    assert container["args"] == ["agent", "run"]
    assert pod["serviceAccountName"] == "lattice-agent"
    assert pod["securityContext"]["runAsNonRoot"] is True
    assert pod["securityContext"]["runAsUser"] == agent.AGENT_UID
    assert pod["securityContext"]["seccompProfile"] == {"type": "RuntimeDefault"}
    assert container["securityContext"] == {
        "allowPrivilegeEscalation": False,
        "readOnlyRootFilesystem": True,
        "runAsNonRoot": True,
        "capabilities": {"drop": ["ALL"]},
    }
    volumes = {v["name"]: v for v in pod["volumes"]}
    mounts = {m["name"]: m["mountPath"] for m in container["volumeMounts"]}
    assert volumes["credentials"]["emptyDir"]["medium"] == "Memory"
    assert mounts["credentials"] == agent.CREDENTIALS_DIR
    assert volumes["parent"]["configMap"]["name"] == "lattice-agent"
    assert f"{mounts['parent']}/ca.crt" == agent.PARENT_CA_FILE
    assert deployment["spec"]["selector"]["matchLabels"].items() <= (
        deployment["spec"]["template"]["metadata"]["labels"].items()
    )


def test_cluster_role_is_least_privilege() -> None:
    objects = compile_agent_bundle("alpha", PARENT)
    rules = _one(objects, "ClusterRole")["rules"]
    assert rules == [
        {"apiGroups": [""], "resources": ["nodes"], "verbs": ["get", "list", "watch"]},
        {"apiGroups": [""], "resources": ["pods"], "verbs": ["get", "list", "watch"]},
        {"apiGroups": [""], "resources": ["namespaces"], "verbs": ["get", "list", "watch"]},
        {
            "apiGroups": ["lattice.dev"],
            "resources": ["cedarpolicies", "cloudproviders", "secretproviders"],
            "verbs": ["list", "watch", "create", "patch", "delete"],
        },
        {
            "apiGroups": [""],
            "resources": ["users", "groups", "serviceaccounts"],
            "verbs": ["impersonate"],
        },
    ]
    for rule in rules:
        assert "*" not in rule["verbs"] + rule["resources"] + rule["apiGroups"]
    assert len(agent.RULES) == len(rules)  # every rule carries its reason there
    # the distributed kinds, as the protocol names them, and served by the bundle's CRDs
    plurals = {c["spec"]["names"]["kind"]: c["spec"]["names"]["plural"] for c in build_crds()}
    assert sorted(plurals[k] for k in DISTRIBUTED_KINDS) == list(agent.DISTRIBUTED_RESOURCES)
    binding = _one(objects, "ClusterRoleBinding")
    assert binding["roleRef"]["name"] == "lattice-agent"
    assert binding["subjects"] == [
        {"kind": "ServiceAccount", "name": "lattice-agent", "namespace": "lattice-system"}
    ]


def test_role_reaches_only_the_credentials_and_bootstrap_secrets() -> None:
    objects = compile_agent_bundle("alpha", PARENT)
    role = _one(objects, "Role")
    assert role["metadata"]["namespace"] == "lattice-system"
    assert role["rules"] == [
        {
            "apiGroups": [""],
            "resources": ["secrets"],
            "resourceNames": ["lattice-agent-credentials"],
            "verbs": ["get", "create", "update", "patch"],
        },
        {
            "apiGroups": [""],
            "resources": ["secrets"],
            "resourceNames": ["lattice-bootstrap"],
            "verbs": ["get", "patch"],
        },
    ]
    assert len(agent.NAMESPACED_RULES) == len(role["rules"])
    binding = _one(objects, "RoleBinding")
    assert binding["roleRef"] == {
        "apiGroup": "rbac.authorization.k8s.io",
        "kind": "Role",
        "name": "lattice-agent",
    }
    assert binding["subjects"] == [
        {"kind": "ServiceAccount", "name": "lattice-agent", "namespace": "lattice-system"}
    ]


def test_credentials_secret_name_matches_the_agent() -> None:
    from lattice_pulumi.agent.secret_store import CREDENTIALS_SECRET

    assert agent.CREDENTIALS_SECRET == CREDENTIALS_SECRET
    env = _env(compile_agent_bundle("alpha", PARENT))
    assert env["LATTICE_CREDENTIALS_SECRET"]["value"] == CREDENTIALS_SECRET
    assert env["LATTICE_NAMESPACE"]["value"] == "lattice-system"


def test_bootstrap_secret_name_and_key_match_the_agent() -> None:
    from lattice_pulumi.agent.secret_store import BOOTSTRAP_SECRET, BOOTSTRAP_TOKEN_KEY

    assert agent.BOOTSTRAP_SECRET == BOOTSTRAP_SECRET
    ref = _env(compile_agent_bundle("alpha", PARENT))["LATTICE_BOOTSTRAP_TOKEN"]
    assert ref["valueFrom"]["secretKeyRef"]["key"] == BOOTSTRAP_TOKEN_KEY


def test_network_policy_denies_ingress_and_limits_egress() -> None:
    policy = _one(compile_agent_bundle("alpha", PARENT), "NetworkPolicy")["spec"]
    assert policy["podSelector"] == {"matchLabels": {"app.kubernetes.io/name": "lattice-agent"}}
    assert policy["policyTypes"] == ["Ingress", "Egress"]
    assert policy["ingress"] == []
    ports = sorted(p["port"] for rule in policy["egress"] for p in rule["ports"])
    assert ports == [53, 53, 443, 6443, 8443, 50051]
    # a DNS name cannot be a NetworkPolicy peer: the parent's ports are open to any address
    assert [r.get("to") for r in policy["egress"][1:]] == [None, None, None]


def test_network_policy_pins_a_literal_parent_address() -> None:
    parent = replace(PARENT, endpoint="10.1.2.3:50051", enrol_url="https://[fd00::7]:8443/v1/enrol")
    objects = compile_agent_bundle("alpha", parent)
    assert_valid(objects)
    egress = _one(objects, "NetworkPolicy")["spec"]["egress"]
    peers = {r["ports"][0]["port"]: r.get("to") for r in egress[1:]}
    assert peers[50051] == [{"ipBlock": {"cidr": "10.1.2.3/32"}}]
    assert peers[8443] == [{"ipBlock": {"cidr": "fd00::7/128"}}]


@pytest.mark.parametrize(
    ("cluster", "change", "message"),
    [
        ("Alpha", {}, "clusterName: expected a lowercase RFC 1123 label"),
        ("alpha", {"endpoint": "cell.example.com"}, "endpoint: expected host:port"),
        ("alpha", {"endpoint": "cell:99999"}, "endpoint: expected host:port"),
        ("alpha", {"enrol_url": "http://cell:8443/v1/enrol"}, "enrolUrl: expected an https://"),
        ("alpha", {"ca_pem": "not a pem"}, "caPem: expected PEM certificates"),
        ("alpha", {"ca_pem": CA + "-----BEGIN PRIVATE KEY-----\n"}, "caPem: expected PEM"),
        ("alpha", {"image": "bad image"}, "image: not an image reference"),
        ("alpha", {"heartbeat_interval": 0.0}, "heartbeatInterval: must be positive"),
    ],
)
def test_bad_inputs_are_compile_errors(cluster: str, change: dict[str, Any], message: str) -> None:
    with pytest.raises(CompileError) as caught:
        compile_agent_bundle(cluster, replace(PARENT, **change))
    assert str(caught.value).startswith(f"agent bundle of {cluster!r} {message}")
