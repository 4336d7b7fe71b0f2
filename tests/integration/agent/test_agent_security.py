"""mTLS, identity binding, version skew and message size limits, against a real cell."""

from __future__ import annotations

import logging

import grpc
import pytest
from conftest import WAIT, CellFactory, RunningAgents, eventually, issue_credentials

from lattice_pulumi import pki
from lattice_pulumi.agent import AgentCredentials, AgentError
from lattice_pulumi.cell import CellError, CellServer
from lattice_pulumi.protocol import (
    CURRENT,
    ProtocolVersion,
    ProtocolVersionError,
    channel_options,
    pb,
    pb_grpc,
)


def hello(cluster: str, version: str = str(CURRENT)) -> pb.AgentMessage:
    v = ProtocolVersion.parse(version)
    return pb.AgentMessage(cluster=cluster, hello=pb.Hello(protocol=v.to_proto()))


async def raw_session(
    cell: CellServer,
    credentials: grpc.ChannelCredentials,
    messages: list[pb.AgentMessage],
    max_bytes: int = 4 * 1024 * 1024,
) -> grpc.aio.AioRpcError:
    """Send ``messages`` on a raw Connect stream; return the error that ends it."""
    async with grpc.aio.secure_channel(
        cell.endpoint, credentials, options=channel_options(max_bytes, client=True)
    ) as channel:
        call = pb_grpc.AgentServiceStub(channel).Connect(timeout=WAIT)
        with pytest.raises(grpc.aio.AioRpcError) as caught:
            for message in messages:
                await call.write(message)
            while True:
                await call.read()
        return caught.value


def creds(agent: AgentCredentials) -> grpc.ChannelCredentials:
    return agent.channel_credentials()


async def test_client_without_certificate_is_refused(
    cell: CellServer, ca: pki.CertificateAuthority
) -> None:
    anonymous = grpc.ssl_channel_credentials(root_certificates=ca.certificate_pem())
    error = await raw_session(cell, anonymous, [hello("alpha")])
    assert error.code() == grpc.StatusCode.UNAVAILABLE
    assert cell.registry.get("alpha") is None


async def test_certificate_from_another_ca_is_refused(
    cell: CellServer, ca: pki.CertificateAuthority
) -> None:
    rogue = pki.CertificateAuthority.create("rogue", curve="P-256")
    forged = issue_credentials(rogue, "alpha", bundle=ca.certificate_pem())
    error = await raw_session(cell, creds(forged), [hello("alpha")])
    assert error.code() == grpc.StatusCode.UNAVAILABLE
    assert cell.registry.get("alpha") is None


async def test_agent_of_cluster_a_claiming_b_is_rejected_and_logged(
    cell: CellServer,
    agents: RunningAgents,
    ca: pki.CertificateAuthority,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.WARNING, logger="lattice_pulumi.cell")
    agent = agents.start(agents.make("beta", cell.endpoint, issue_credentials(ca, "alpha")))
    with pytest.raises(
        AgentError, match="certificate identifies cluster 'alpha' but the message claims 'beta'"
    ):
        await agents.finished(agent)
    assert cell.registry.get("beta") is None
    assert "rejected message from cluster alpha claiming to be 'beta'" in caplog.text


async def test_a_later_message_claiming_another_cluster_ends_the_session(
    cell: CellServer, ca: pki.CertificateAuthority
) -> None:
    alpha = issue_credentials(ca, "alpha")
    spoof = pb.AgentMessage(cluster="beta", heartbeat=pb.Heartbeat())
    error = await raw_session(cell, creds(alpha), [hello("alpha"), spoof])
    assert error.code() == grpc.StatusCode.PERMISSION_DENIED
    record = cell.registry.get("alpha")
    assert record is not None and record.heartbeats == 0
    assert cell.registry.get("beta") is None


@pytest.mark.parametrize(
    ("cell_version", "agent_version"),
    [
        pytest.param("1.0", "1.1", id="agent one minor newer"),
        pytest.param("1.1", "1.0", id="agent one minor older"),
    ],
)
async def test_one_minor_version_apart_interoperates(
    cell_factory: CellFactory,
    agents: RunningAgents,
    ca: pki.CertificateAuthority,
    cell_version: str,
    agent_version: str,
) -> None:
    cell = await cell_factory(protocol=ProtocolVersion.parse(cell_version))
    agents.start(
        agents.make(
            "alpha",
            cell.endpoint,
            issue_credentials(ca, "alpha"),
            protocol=ProtocolVersion.parse(agent_version),
        )
    )
    await cell.registry.wait_until(
        lambda r: (rec := r.get("alpha")) is not None and rec.heartbeats >= 1, WAIT
    )
    record = cell.registry.get("alpha")
    assert record is not None and record.protocol == agent_version


async def test_major_version_mismatch_is_refused_with_a_clear_error(
    cell: CellServer, agents: RunningAgents, ca: pki.CertificateAuthority
) -> None:
    agent = agents.start(
        agents.make(
            "alpha",
            cell.endpoint,
            issue_credentials(ca, "alpha"),
            protocol=ProtocolVersion(2, 0),
        )
    )
    with pytest.raises(ProtocolVersionError) as caught:
        await agents.finished(agent)
    assert str(caught.value) == (
        f"agent speaks protocol 2.0 but this side speaks {CURRENT}: major versions differ "
        "and cannot interoperate; upgrade the older side"
    )
    assert agent.sessions == 0


async def test_two_minor_versions_apart_is_refused(
    cell_factory: CellFactory, agents: RunningAgents, ca: pki.CertificateAuthority
) -> None:
    cell = await cell_factory(protocol=ProtocolVersion(1, 2))
    agent = agents.start(
        agents.make(
            "alpha",
            cell.endpoint,
            issue_credentials(ca, "alpha"),
            protocol=ProtocolVersion(1, 0),
        )
    )
    with pytest.raises(ProtocolVersionError, match=r"more than 1 minor version away from 1\.2"):
        await agents.finished(agent)
    assert cell.registry.get("alpha") is None


async def test_oversized_message_is_rejected_by_the_cell(
    cell_factory: CellFactory, ca: pki.CertificateAuthority
) -> None:
    cell = await cell_factory(max_message_bytes=64 * 1024)
    alpha = issue_credentials(ca, "alpha")
    big = pb.AgentMessage(cluster="alpha", event=pb.Event(message="x" * (256 * 1024)))
    error = await raw_session(cell, creds(alpha), [hello("alpha"), big], max_bytes=1024 * 1024)
    assert error.code() == grpc.StatusCode.RESOURCE_EXHAUSTED
    record = cell.registry.get("alpha")
    assert record is not None and not record.events


async def test_oversized_command_is_rejected_by_the_agent(
    cell: CellServer, agents: RunningAgents, ca: pki.CertificateAuthority
) -> None:
    agent = agents.start(
        agents.make(
            "alpha", cell.endpoint, issue_credentials(ca, "alpha"), max_message_bytes=64 * 1024
        )
    )
    await cell.registry.wait_until(
        lambda r: (rec := r.get("alpha")) is not None and rec.connected, WAIT
    )
    huge = pb.CellCommand(apply_manifests=pb.ApplyManifests(manifests=[b"x" * (256 * 1024)]))
    with pytest.raises(CellError, match="disconnected before answering"):
        await cell.request("alpha", huge, WAIT)
    # The agent dropped that session and dialled again.
    await eventually(lambda: agent.sessions >= 2)
