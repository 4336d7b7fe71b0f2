"""Loopback fixtures for the agent/cell channel: a test CA, a real mTLS cell, real agents.

Everything runs for real on 127.0.0.1 with port 0: grpc.aio server, TLS handshakes,
certificates made by the project's own PKI. Intervals are short (50 ms heartbeats) and every
wait is bounded.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import replace
from datetime import timedelta
from typing import Any

import pytest

from lattice_pulumi import pki
from lattice_pulumi.agent import Agent, AgentConfig, AgentCredentials, StatusHolder
from lattice_pulumi.cell import CellConfig, CellServer
from lattice_pulumi.protocol import pb

WAIT = 10.0  # upper bound for any single wait in these tests

FAST = {
    "heartbeat_interval": 0.05,
    "backoff_initial": 0.05,
    "backoff_max": 0.2,
    "connect_timeout": 5.0,
}


@pytest.fixture(scope="session")
def ca() -> pki.CertificateAuthority:
    return pki.CertificateAuthority.create("test", curve="P-256")


@pytest.fixture(scope="session")
def server_certificate(ca: pki.CertificateAuthority) -> pki.IssuedCertificate:
    return ca.issue_server_certificate(["127.0.0.1", "localhost"])


def issue_credentials(
    ca: pki.CertificateAuthority,
    cluster: str,
    *,
    lifetime: timedelta = timedelta(hours=1),
    bundle: bytes | None = None,
) -> AgentCredentials:
    """Credentials as enrolment would have produced them (signed directly by ``ca``)."""
    key = pki.generate_private_key()
    identity = pki.ClusterIdentity(cluster)
    cert = ca.sign_client_csr(pki.build_csr(key, identity), identity, lifetime=lifetime)
    return AgentCredentials(key, cert, bundle if bundle is not None else ca.certificate_pem())


async def eventually(predicate: Callable[[], bool], timeout: float = WAIT) -> None:
    """Poll ``predicate`` every 10 ms until it holds; ``TimeoutError`` after ``timeout``."""
    async with asyncio.timeout(timeout):
        while not predicate():
            await asyncio.sleep(0.01)


def healthy_status() -> StatusHolder:
    status = StatusHolder()
    status.update(pb.CLUSTER_STATE_READY, control_plane=(3, 3), workers=(4, 5))
    return status


CellFactory = Callable[..., Awaitable[CellServer]]


@pytest.fixture
async def cell_factory(
    ca: pki.CertificateAuthority, server_certificate: pki.IssuedCertificate
) -> AsyncIterator[CellFactory]:
    """Start cells (``name="parent"``, config overrides); all are stopped after the test."""
    started: list[CellServer] = []

    async def start(
        name: str = "parent", authority: pki.CellAuthority | None = None, **overrides: Any
    ) -> CellServer:
        config = replace(CellConfig(name=name), **overrides)
        cell = CellServer(config, authority or pki.CellAuthority(ca), server_certificate)
        await cell.start()
        started.append(cell)
        return cell

    yield start
    for cell in reversed(started):
        await cell.stop(None)


@pytest.fixture
async def cell(cell_factory: CellFactory) -> CellServer:
    return await cell_factory()


class RunningAgents:
    """Agents running as tasks; stopped and awaited (bounded) at teardown."""

    def __init__(self) -> None:
        self.tasks: dict[Agent, asyncio.Task[None]] = {}

    def start(self, agent: Agent) -> Agent:
        self.tasks[agent] = asyncio.create_task(agent.run())
        return agent

    def make(
        self,
        cluster: str,
        endpoint: str,
        credentials: AgentCredentials,
        status: StatusHolder | None = None,
        subtree: Callable[[], pb.SubtreeState] | None = None,
        **overrides: Any,
    ) -> Agent:
        config = AgentConfig(cluster=cluster, endpoint=endpoint, **{**FAST, **overrides})
        return Agent(config, credentials, status or healthy_status(), subtree=subtree)

    async def finished(self, agent: Agent) -> None:
        """Wait for ``agent.run()`` to end and re-raise what it raised."""
        async with asyncio.timeout(WAIT):
            await self.tasks.pop(agent)

    async def stop_all(self) -> None:
        for agent, task in self.tasks.items():
            await agent.stop()
            try:
                async with asyncio.timeout(WAIT):
                    await task
            except TimeoutError:
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await task
                raise
            except Exception:  # the test already asserted what it cared about
                pass


@pytest.fixture
async def agents() -> AsyncIterator[RunningAgents]:
    running = RunningAgents()
    yield running
    await running.stop_all()


@pytest.fixture(scope="session")
def proxy_children(
    control_plane_factory: Callable[..., Any], ca: pki.CertificateAuthority
) -> dict[str, Any]:
    """The API proxy tests' child clusters prod and us-east: control planes with the agent
    bundle's RBAC (see proxy_support), shared by every proxy test of the session."""
    from proxy_support import install_child

    planes = {
        name: control_plane_factory(f"proxy-{name}", with_controller_manager=False)
        for name in ("prod", "us-east")
    }
    for name, plane in planes.items():
        install_child(plane, name, ca.certificate_pem().decode())
    return planes
