"""A real root -> prod -> us-east fleet that distributes CedarPolicies and providers.

The control planes are the proxy tests' (the session's ``control_plane`` as the root, and
``proxy_children`` with the agent bundle's real RBAC), with the Lattice CRDs installed. Each
child's agent talks to its API server as the bundle's ``lattice-agent`` ServiceAccount, so
every write it makes is checked by the least-privilege ClusterRole; prod's cell watches
prod with that same account (a mid-level cell hands on what it received). The root's cell
watches the root with the admin kubeconfig. Cells, distributors and agents run in the test's
event loop on loopback.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from conftest import FAST, WAIT, CellFactory, RunningAgents, healthy_status, issue_credentials
from harness.control_plane import ControlPlane
from harness.kube import ApiError, KubeClient
from proxy_support import LABELS, agent_proxy_client

from lattice_pulumi import kube, pki
from lattice_pulumi.agent import Agent, AgentConfig
from lattice_pulumi.agent.distribution import DistributionHandler
from lattice_pulumi.cell import CellServer
from lattice_pulumi.cell.distribution import Distributor

API = "lattice.dev/v1alpha1"
NAMESPACE = "lattice-system"
PREFIX = "dist-"  # every object these tests make starts so; removed before and after


def cedar_policy(name: str, text: str, *, propagate: bool = True, **meta: Any) -> dict[str, Any]:
    return {
        "apiVersion": API,
        "kind": "CedarPolicy",
        "metadata": {"name": name, "namespace": NAMESPACE, **meta},
        "spec": {"policies": text, "propagate": propagate},
    }


def find(kc: KubeClient, kind: str, name: str) -> dict[str, Any] | None:
    return kc.find(API, kind, name, NAMESPACE)


def remove_test_objects(planes: dict[str, ControlPlane]) -> None:
    for plane in planes.values():
        for kind in ("CedarPolicy", "CloudProvider", "SecretProvider"):
            for obj in plane.client.list(API, kind):
                meta = obj["metadata"]
                if meta["name"].startswith(PREFIX):
                    with contextlib.suppress(ApiError):
                        plane.client.delete(API, kind, meta["name"], meta["namespace"])


async def until(predicate: Any, timeout: float = WAIT) -> None:
    """Poll ``predicate`` (blocking API reads, short) every 50 ms; TimeoutError after."""
    async with asyncio.timeout(timeout):
        while not predicate():
            await asyncio.sleep(0.05)


async def holds_for(predicate: Any, seconds: float) -> bool:
    """Whether ``predicate`` stays true for ``seconds`` (cells keep syncing meanwhile)."""
    deadline = asyncio.get_running_loop().time() + seconds
    while asyncio.get_running_loop().time() < deadline:
        if not predicate():
            return False
        await asyncio.sleep(0.05)
    return True


@dataclass
class DistributionFleet:
    root: CellServer
    prod: CellServer
    distributors: dict[str, Distributor]
    handlers: dict[str, DistributionHandler]
    planes: dict[str, ControlPlane]
    agents: dict[str, Agent]
    running: RunningAgents
    ca: pki.CertificateAuthority
    clients: dict[str, Any] = field(default_factory=dict)

    def kc(self, cluster: str) -> KubeClient:
        return self.planes[cluster].client

    def prod_agent(self) -> Agent:
        return Agent(
            AgentConfig(
                cluster="prod",
                endpoint=self.root.endpoint,
                role="parent",
                labels=LABELS["prod"],
                **FAST,
            ),
            issue_credentials(self.ca, "prod"),
            healthy_status(),
            subtree=self.prod.registry.subtree_snapshot,
            handler=self.handlers["prod"],
        )

    async def restart_prod_agent(self, while_away: Any) -> None:
        """Stop prod's agent, run ``while_away()``, start a new agent (a new session)."""
        old = self.agents["prod"]
        await old.stop()
        await self.running.finished(old)
        await until(lambda: "prod" not in self.root.connected())
        while_away()
        self.agents["prod"] = self.running.start(self.prod_agent())
        await until(lambda: "prod" in self.root.connected())


@contextlib.asynccontextmanager
async def distribution_fleet(
    root_plane: ControlPlane,
    children: dict[str, ControlPlane],
    cell_factory: CellFactory,
    running: RunningAgents,
    ca: pki.CertificateAuthority,
    directory: Path,
) -> AsyncIterator[DistributionFleet]:
    directory.mkdir(parents=True, exist_ok=True)
    planes = children | {"root": root_plane}
    remove_test_objects(planes)
    root = await cell_factory("root")
    prod = await cell_factory("prod")
    clients = {name: agent_proxy_client(plane, directory) for name, plane in children.items()}
    clients["root"] = kube.connect(root_plane.kubeconfig_path, field_manager="lattice-cell")
    handlers = {name: DistributionHandler(clients[name]) for name in children}
    distributors = {
        "root": Distributor(root, clients["root"], tick=0.05, retry_interval=0.2),
        "prod": Distributor(prod, clients["prod"], tick=0.05, retry_interval=0.2),
    }
    fleet = DistributionFleet(root, prod, distributors, handlers, planes, {}, running, ca, clients)
    fleet.agents["prod"] = running.start(fleet.prod_agent())
    east = Agent(
        AgentConfig(cluster="us-east", endpoint=prod.endpoint, labels=LABELS["us-east"], **FAST),
        issue_credentials(ca, "us-east"),
        healthy_status(),
        handler=handlers["us-east"],
    )
    fleet.agents["us-east"] = running.start(east)
    for distributor in distributors.values():
        await distributor.start()
    try:
        await until(lambda: "prod" in root.connected() and "us-east" in prod.connected())
        yield fleet
    finally:
        for distributor in distributors.values():
            await distributor.stop()
        await running.stop_all()
        for client in clients.values():
            await client.aclose()
        remove_test_objects(planes)
