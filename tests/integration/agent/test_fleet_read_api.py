"""The cell's read API (FleetService) and certificate checks at the TLS handshake.

Only operator certificates from the cell's CA may read the fleet; cluster certificates,
certificates of other CAs and expired certificates are refused. Anonymous clients and
certificates of another CA on the agent stream are covered in test_agent_security.py.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import grpc
import pytest
from conftest import WAIT, CellFactory, RunningAgents, issue_credentials

from lattice_pulumi import pki
from lattice_pulumi.agent import AgentCredentials
from lattice_pulumi.cell import CellServer
from lattice_pulumi.protocol import channel_options, pb, pb_grpc


def operator_credentials(
    ca: pki.CertificateAuthority, trusted: pki.CertificateAuthority, **kwargs: object
) -> grpc.ChannelCredentials:
    issued = ca.issue_operator_certificate(pki.OperatorIdentity("lattice-cli"), **kwargs)  # type: ignore[arg-type]
    return grpc.ssl_channel_credentials(
        trusted.certificate_pem(), issued.key_pem(), issued.certificate_pem()
    )


async def get_fleet(cell: CellServer, credentials: grpc.ChannelCredentials) -> pb.FleetView:
    async with grpc.aio.secure_channel(
        cell.endpoint, credentials, options=channel_options(client=True)
    ) as channel:
        view: pb.FleetView = await pb_grpc.FleetServiceStub(channel).GetFleet(
            pb.GetFleetRequest(), timeout=WAIT
        )
        return view


async def test_an_operator_reads_the_fleet(
    cell_factory: CellFactory, agents: RunningAgents, ca: pki.CertificateAuthority
) -> None:
    cell = await cell_factory("root", provider="docker")
    agents.start(
        agents.make(
            "alpha", cell.endpoint, issue_credentials(ca, "alpha"), provider="aws", role="leaf"
        )
    )
    await cell.registry.wait_until(
        lambda r: (rec := r.get("alpha")) is not None and rec.heartbeats >= 1, WAIT
    )
    view = await get_fleet(cell, operator_credentials(ca, ca))
    assert (view.cell.name, view.cell.role, view.cell.provider) == ("root", "root", "docker")
    [alpha] = view.clusters
    assert (alpha.name, alpha.parent, alpha.provider, alpha.role) == (
        "alpha",
        "root",
        "aws",
        "leaf",
    )
    assert alpha.connected and alpha.first_seen_unix_ms > 0


async def test_a_cluster_certificate_cannot_read_the_fleet(
    cell: CellServer, ca: pki.CertificateAuthority
) -> None:
    child = issue_credentials(ca, "alpha")
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await get_fleet(cell, child.channel_credentials())
    assert caught.value.code() == grpc.StatusCode.PERMISSION_DENIED
    assert caught.value.details() == (
        "reading the fleet needs an operator certificate: "
        "certificate does not carry an operator identity"
    )


async def test_an_operator_certificate_cannot_open_an_agent_session(
    cell: CellServer, ca: pki.CertificateAuthority
) -> None:
    async with grpc.aio.secure_channel(
        cell.endpoint, operator_credentials(ca, ca), options=channel_options(client=True)
    ) as channel:
        call = pb_grpc.AgentServiceStub(channel).Connect(timeout=WAIT)
        with pytest.raises(grpc.aio.AioRpcError) as caught:
            await call.read()
    assert caught.value.code() == grpc.StatusCode.UNAUTHENTICATED
    assert cell.registry.get_clusters() == []


async def test_an_operator_of_another_ca_is_refused(
    cell: CellServer, ca: pki.CertificateAuthority
) -> None:
    rogue = pki.CertificateAuthority.create("rogue", curve="P-256")
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await get_fleet(cell, operator_credentials(rogue, ca))
    assert caught.value.code() == grpc.StatusCode.UNAVAILABLE


@pytest.fixture(scope="module")
def old_ca() -> pki.CertificateAuthority:
    """A CA made a day ago, so it can sign certificates that have already expired."""
    return pki.CertificateAuthority.create(
        "old", curve="P-256", now=datetime.now(UTC) - timedelta(days=1)
    )


PAST = {"lifetime": timedelta(hours=1), "now": datetime.now(UTC) - timedelta(hours=2)}


async def test_an_expired_operator_certificate_is_refused(
    cell_factory: CellFactory, ca: pki.CertificateAuthority, old_ca: pki.CertificateAuthority
) -> None:
    cell = await cell_factory(authority=pki.CellAuthority(old_ca))
    view = await get_fleet(cell, operator_credentials(old_ca, ca))  # control: valid one reads
    assert view.cell.name == "parent"
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await get_fleet(cell, operator_credentials(old_ca, ca, **PAST))
    assert caught.value.code() == grpc.StatusCode.UNAVAILABLE


async def test_an_expired_cluster_certificate_cannot_connect(
    cell_factory: CellFactory, ca: pki.CertificateAuthority, old_ca: pki.CertificateAuthority
) -> None:
    cell = await cell_factory(authority=pki.CellAuthority(old_ca))
    key = pki.generate_private_key()
    identity = pki.ClusterIdentity("alpha")
    cert = old_ca.sign_client_csr(pki.build_csr(key, identity), identity, **PAST)  # type: ignore[arg-type]
    assert cert.not_valid_after_utc < datetime.now(UTC)
    expired = AgentCredentials(key, cert, ca.certificate_pem())
    async with grpc.aio.secure_channel(
        cell.endpoint, expired.channel_credentials(), options=channel_options(client=True)
    ) as channel:
        call = pb_grpc.AgentServiceStub(channel).Connect(timeout=WAIT)
        with pytest.raises(grpc.aio.AioRpcError) as caught:
            await call.write(
                pb.AgentMessage(
                    cluster="alpha", hello=pb.Hello(protocol=pb.ProtocolVersion(major=1))
                )
            )
            await call.read()
    assert caught.value.code() == grpc.StatusCode.UNAVAILABLE
    assert cell.registry.get("alpha") is None
