"""A real three-level fleet for the API proxy tests: root -> prod -> us-east.

Three real control planes: the root's (the session's ``control_plane``, where users'
ServiceAccount tokens are issued and reviewed) and one for each child. Each child runs the
agent bundle's real RBAC (``compile_agent_bundle``) and its agent talks to its API server
with that ServiceAccount's token, so every proxied call is checked by the child's RBAC with
the agent's least privilege plus impersonation. Cells, agents and the HTTPS proxy run in
this test's event loop on loopback, as in the other agent tests.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import shutil
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from conftest import FAST, WAIT, CellFactory, RunningAgents, healthy_status, issue_credentials
from fleet_support import env_without_lattice
from harness.control_plane import ControlPlane
from harness.kube import ApiError, KubeClient
from harness.tools import require_tools

from lattice_pulumi import kube, pki
from lattice_pulumi.agent import Agent, AgentConfig, KubeProxy
from lattice_pulumi.cell import (
    AuditLog,
    CellServer,
    ChainAuthenticator,
    OIDCAuthenticator,
    ProxyServer,
    TokenReviewAuthenticator,
)
from lattice_pulumi.compile.agent import AgentParent, compile_agent_bundle
from lattice_pulumi.policy import CedarAuthorizer, PolicySource

AUDIENCE = "lattice-proxy"
PEOPLE = "people"
AGENT_NAMESPACE = "lattice-system"
AGENT_ACCOUNT = f"system:serviceaccount:{AGENT_NAMESPACE}:lattice-agent"
RBAC_KINDS = ("ServiceAccount", "ClusterRole", "ClusterRoleBinding", "Role", "RoleBinding")

POLICIES = """
// alice reads production clusters, nothing more.
permit(
  principal == Lattice::ServiceAccount::"people/alice",
  action in [Lattice::Action::"get", Lattice::Action::"list", Lattice::Action::"watch"],
  resource
) when { resource.environment == "production" };

// the identity provider's group ops reads us-east.
permit(
  principal in Lattice::Group::"oidc:ops",
  action in [Lattice::Action::"get", Lattice::Action::"list"],
  resource in Lattice::Cluster::"us-east"
);

// bob may do anything in clusters of region us-east.
permit(principal == Lattice::ServiceAccount::"people/bob", action, resource)
  when { resource.hasTag("region") && resource.getTag("region") == "us-east" };
"""

LABELS = {
    "prod": {"environment": "production"},
    "us-east": {"environment": "production", "region": "us-east"},
}


def ensure(kc: KubeClient, obj: dict[str, Any]) -> None:
    kc.apply(obj)


def service_account_token(
    kc: KubeClient, namespace: str, name: str, audiences: list[str] | None = None
) -> str:
    """A fresh token of ServiceAccount ``namespace/name`` (created if missing)."""
    ensure(kc, {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": namespace}})
    ensure(
        kc,
        {
            "apiVersion": "v1",
            "kind": "ServiceAccount",
            "metadata": {"name": name, "namespace": namespace},
        },
    )
    spec: dict[str, Any] = {"expirationSeconds": 3600}
    if audiences is not None:
        spec["audiences"] = audiences
    issued = kc.request(
        "POST",
        f"/api/v1/namespaces/{namespace}/serviceaccounts/{name}/token",
        {"apiVersion": "authentication.k8s.io/v1", "kind": "TokenRequest", "spec": spec},
    )
    return str(issued["status"]["token"])


def token_kubeconfig(plane: ControlPlane, token: str, path: Path) -> Path:
    config = json.loads(plane.kubeconfig)
    config["users"][0]["user"] = {"token": token}
    path.write_text(json.dumps(config))
    return path


def install_child(plane: ControlPlane, name: str, ca_pem: str) -> None:
    """The agent bundle's RBAC, and cluster-admin for the people of the root (so Cedar at
    the root is what limits them: the child's RBAC would allow everything)."""
    parent = AgentParent("127.0.0.1:50051", "https://127.0.0.1:8443/v1/enrol", ca_pem)
    kc = plane.client
    for obj in compile_agent_bundle(name, parent):
        if obj["kind"] == "Namespace" or obj["kind"] in RBAC_KINDS:
            ensure(kc, obj)
    ensure(
        kc,
        {
            "apiVersion": "rbac.authorization.k8s.io/v1",
            "kind": "ClusterRoleBinding",
            "metadata": {"name": "people-admin"},
            "roleRef": {
                "apiGroup": "rbac.authorization.k8s.io",
                "kind": "ClusterRole",
                "name": "cluster-admin",
            },
            "subjects": [
                {
                    "apiGroup": "rbac.authorization.k8s.io",
                    "kind": "Group",
                    "name": group,
                }
                for group in (f"system:serviceaccounts:{PEOPLE}", "oidc:ops")
            ],
        },
    )


def delete_quietly(kc: KubeClient, api_version: str, kind: str, name: str, ns: str) -> None:
    with contextlib.suppress(ApiError):
        kc.delete(api_version, kind, name, ns)


@dataclass
class Fleet:
    """What the proxy tests talk to."""

    root: CellServer
    prod: CellServer
    proxy: ProxyServer
    ca_file: Path
    audit_file: Path
    planes: dict[str, ControlPlane]
    tokens: dict[str, str]
    directory: Path
    agents: dict[str, Agent]

    def kubeconfig(self, user: str, cluster: str) -> Path:
        """A kubeconfig for ``user`` (alice, bob, carol) pointed at ``cluster`` through
        the proxy."""
        path = self.directory / f"{user}-{cluster}.kubeconfig"
        config = {
            "apiVersion": "v1",
            "kind": "Config",
            "clusters": [
                {
                    "name": cluster,
                    "cluster": {
                        "server": f"{self.proxy.url}/clusters/{cluster}",
                        "certificate-authority": str(self.ca_file),
                    },
                }
            ],
            "users": [{"name": user, "user": {"token": self.tokens[user]}}],
            "contexts": [{"name": cluster, "context": {"cluster": cluster, "user": user}}],
            "current-context": cluster,
        }
        path.write_text(json.dumps(config))
        path.chmod(0o600)
        return path

    def audit(self) -> list[dict[str, Any]]:
        return [json.loads(line) for line in self.audit_file.read_text().splitlines()]


def tool_env(home: Path, **extra: str) -> dict[str, str]:
    """kubectl's environment: HOME in the test directory (no ~/.kube of the machine), and
    what the ``lattice token`` exec plugin needs to import this tree."""
    return env_without_lattice(HOME=str(home), **extra)


async def run(*argv: str, env: dict[str, str], timeout: float = 60.0) -> tuple[int, str, str]:
    """Run a program without blocking the loop (cells and agents run in it)."""
    process = await asyncio.create_subprocess_exec(
        *argv, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE, env=env
    )
    out, err = await asyncio.wait_for(process.communicate(), timeout)
    return process.returncode or 0, out.decode(), err.decode()


async def kubectl(
    kubeconfig: Path, *args: str, timeout: float = 60.0, env: dict[str, str] | None = None
) -> tuple[int, str, str]:
    """The real kubectl with ``kubeconfig``."""
    binary = require_tools("kubectl")["kubectl"].path()
    environment = env if env is not None else tool_env(kubeconfig.parent)
    return await run(str(binary), f"--kubeconfig={kubeconfig}", *args, env=environment)


def agent_proxy_client(plane: ControlPlane, directory: Path) -> Any:
    """A lightkube client of ``plane`` authenticated as the bundle's agent account."""
    token = service_account_token(plane.client, AGENT_NAMESPACE, "lattice-agent")
    path = token_kubeconfig(plane, token, directory / f"agent-{plane.name}.kubeconfig")
    return kube.connect(path, field_manager="lattice-agent")


@contextlib.asynccontextmanager
async def running_fleet(
    root_plane: ControlPlane,
    children: dict[str, ControlPlane],
    cell_factory: CellFactory,
    agents: RunningAgents,
    ca: pki.CertificateAuthority,
    server_certificate: pki.IssuedCertificate,
    directory: Path,
    oidc: tuple[OIDCAuthenticator, ...] = (),
) -> AsyncIterator[Fleet]:
    """root (proxy) -> prod (a cell of its own) -> us-east, all connected and reported;
    ``oidc`` issuers are trusted besides TokenReview."""
    directory.mkdir(parents=True, exist_ok=True)
    ca_file = directory / "ca.crt"
    ca_file.write_bytes(ca.certificate_pem())
    tokens = {
        user: service_account_token(root_plane.client, PEOPLE, user, [AUDIENCE])
        for user in ("alice", "bob", "carol")
    }
    root = await cell_factory("root")
    prod = await cell_factory("prod")
    clients = {name: agent_proxy_client(plane, directory) for name, plane in children.items()}
    review_client = kube.connect(root_plane.kubeconfig_path, field_manager="lattice-cell")
    prod_agent = Agent(
        AgentConfig(
            cluster="prod", endpoint=root.endpoint, role="parent", labels=LABELS["prod"], **FAST
        ),
        issue_credentials(ca, "prod"),
        healthy_status(),
        subtree=prod.registry.subtree_snapshot,
        kube_proxy=KubeProxy(kube.http_client(clients["prod"])),
        forward=prod.tunnels.forward,
    )
    east_agent = Agent(
        AgentConfig(cluster="us-east", endpoint=prod.endpoint, labels=LABELS["us-east"], **FAST),
        issue_credentials(ca, "us-east"),
        healthy_status(),
        kube_proxy=KubeProxy(kube.http_client(clients["us-east"])),
    )
    agents.start(prod_agent)
    agents.start(east_agent)
    audit_file = directory / "audit.log"
    proxy = ProxyServer(
        root.tunnels,
        root.registry,
        ChainAuthenticator(oidc, TokenReviewAuthenticator(review_client, [AUDIENCE])),
        CedarAuthorizer([PolicySource("people", "lattice-system", POLICIES)]),
        server_certificate,
        audit=AuditLog(audit_file),
    )
    await proxy.start()
    try:
        async with asyncio.timeout(WAIT):
            while "us-east" not in root.tunnels.reachable():
                await asyncio.sleep(0.02)
        yield Fleet(
            root,
            prod,
            proxy,
            ca_file,
            audit_file,
            children | {"root": root_plane},
            tokens,
            directory,
            {"prod": prod_agent, "us-east": east_agent},
        )
    finally:
        await proxy.stop()
        proxy.audit.close()
        await agents.stop_all()
        for client in [*clients.values(), review_client]:
            await client.aclose()
        if not os.environ.get("LATTICE_KEEP_TEST_DIRS"):
            shutil.rmtree(directory, ignore_errors=True)
