"""Certificate renewal over the mTLS channel, including a CA rotation it completes."""

from __future__ import annotations

from datetime import timedelta

import grpc
import pytest
from conftest import WAIT, CellFactory, RunningAgents, eventually, issue_credentials

from lattice_pulumi import pki
from lattice_pulumi.cell import CellServer
from lattice_pulumi.protocol import channel_options, pb, pb_grpc


async def test_agent_renews_before_expiry_and_reconnects_with_the_new_certificate(
    cell: CellServer, agents: RunningAgents, ca: pki.CertificateAuthority
) -> None:
    # A one-minute certificate is already past two thirds of its (backdated) validity.
    old = issue_credentials(ca, "alpha", lifetime=timedelta(minutes=1))
    agent = agents.start(agents.make("alpha", cell.endpoint, old))
    await eventually(lambda: agent.renewals == 1 and agent.sessions >= 2)

    new = agent.credentials
    assert new.serial != old.serial
    assert new.key.public_key() != old.key.public_key()  # a fresh key per renewal
    lifetime = new.certificate.not_valid_after_utc - new.certificate.not_valid_before_utc
    assert lifetime > timedelta(hours=23)
    await cell.registry.wait_until(
        lambda r: (
            (rec := r.get("alpha")) is not None
            and rec.connected
            and rec.certificate_fingerprint == pki.fingerprint(new.certificate)
        ),
        WAIT,
    )
    assert agent.renewals == 1  # the new certificate is not due yet


async def test_renewal_completes_a_ca_rotation(
    cell_factory: CellFactory, agents: RunningAgents, ca: pki.CertificateAuthority
) -> None:
    authority = pki.CellAuthority(ca)
    new_ca = pki.CertificateAuthority.create("next", curve="P-256")
    authority.start_rotation(new_ca, ["alpha"])
    cell = await cell_factory(authority=authority)  # trusts old and new CA

    old = issue_credentials(ca, "alpha", lifetime=timedelta(minutes=1))
    agent = agents.start(agents.make("alpha", cell.endpoint, old))
    await eventually(lambda: agent.renewals == 1 and agent.sessions >= 2)

    assert new_ca.issued(agent.credentials.certificate)
    assert pki.TrustBundle.from_pem(agent.credentials.ca_bundle_pem).fingerprints() == [
        new_ca.fingerprint,
        ca.fingerprint,
    ]
    assert not authority.rotating
    assert authority.bundle().fingerprints() == [new_ca.fingerprint]


async def test_renewal_csr_for_another_cluster_is_refused(
    cell: CellServer, ca: pki.CertificateAuthority
) -> None:
    alpha = issue_credentials(ca, "alpha")
    csr = pki.build_csr(pki.generate_private_key(), pki.ClusterIdentity("beta"))
    async with grpc.aio.secure_channel(
        cell.endpoint, alpha.channel_credentials(), options=channel_options(client=True)
    ) as channel:
        with pytest.raises(grpc.aio.AioRpcError) as caught:
            await pb_grpc.AgentServiceStub(channel).Renew(
                pb.RenewRequest(csr_pem=csr), timeout=WAIT
            )
    assert caught.value.code() == grpc.StatusCode.PERMISSION_DENIED
    assert caught.value.details() == "CSR for cluster 'alpha' also claims 'beta'"
