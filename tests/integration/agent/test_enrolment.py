"""Enrolment over real HTTPS: token + CSR in, short-lived client certificate out."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
from conftest import WAIT, RunningAgents

from lattice_pulumi import pki
from lattice_pulumi.agent import EnrolmentError, enrol
from lattice_pulumi.cell import CellServer, EnrolmentServer


class Clock:
    def __init__(self) -> None:
        self.now = datetime.now(UTC)

    def __call__(self) -> datetime:
        return self.now


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def tokens(clock: Clock) -> pki.BootstrapTokens:
    return pki.BootstrapTokens(clock=clock)


@pytest.fixture
def enrolment(
    ca: pki.CertificateAuthority,
    server_certificate: pki.IssuedCertificate,
    tokens: pki.BootstrapTokens,
) -> Iterator[EnrolmentServer]:
    with EnrolmentServer(pki.CellAuthority(ca), tokens, server_certificate) as server:
        yield server


def test_enrolment_issues_a_certificate_for_the_tokens_cluster(
    enrolment: EnrolmentServer, tokens: pki.BootstrapTokens, ca: pki.CertificateAuthority
) -> None:
    issued = tokens.issue("alpha")
    credentials = enrol(enrolment.url, issued.token, "alpha", ca.certificate_pem(), timeout=WAIT)
    assert pki.identity_from_certificate(credentials.certificate).name == "alpha"
    assert ca.issued(credentials.certificate)
    assert credentials.ca_bundle_pem == ca.certificate_pem()


def test_replayed_token_answers_410(
    enrolment: EnrolmentServer, tokens: pki.BootstrapTokens, ca: pki.CertificateAuthority
) -> None:
    issued = tokens.issue("alpha")
    enrol(enrolment.url, issued.token, "alpha", ca.certificate_pem(), timeout=WAIT)
    with pytest.raises(EnrolmentError) as caught:
        enrol(enrolment.url, issued.token, "alpha", ca.certificate_pem(), timeout=WAIT)
    assert caught.value.status == 410
    assert str(caught.value) == (
        f"enrolment failed (410): bootstrap token {issued.token_id} was already used"
    )


@pytest.mark.parametrize(
    ("make_token", "message"),
    [
        pytest.param(lambda t: "lt1.0123456789abcdef.nope", "is not known", id="unknown"),
        pytest.param(lambda t: t.token[:-2] + "xx", "is not known", id="wrong secret"),
        pytest.param(lambda t: "", "bootstrap token is malformed", id="missing"),
    ],
)
def test_unknown_token_answers_401(
    enrolment: EnrolmentServer,
    tokens: pki.BootstrapTokens,
    ca: pki.CertificateAuthority,
    make_token: object,
    message: str,
) -> None:
    token = make_token(tokens.issue("alpha"))  # type: ignore[operator]
    with pytest.raises(EnrolmentError, match=message) as caught:
        enrol(enrolment.url, token, "alpha", ca.certificate_pem(), timeout=WAIT)
    assert caught.value.status == 401


def test_expired_token_answers_401(
    enrolment: EnrolmentServer,
    tokens: pki.BootstrapTokens,
    clock: Clock,
    ca: pki.CertificateAuthority,
) -> None:
    issued = tokens.issue("alpha", ttl=timedelta(minutes=10))
    clock.now += timedelta(minutes=11)
    with pytest.raises(EnrolmentError, match="has expired") as caught:
        enrol(enrolment.url, issued.token, "alpha", ca.certificate_pem(), timeout=WAIT)
    assert caught.value.status == 401


def test_csr_for_another_cluster_answers_403_and_keeps_the_token(
    enrolment: EnrolmentServer, tokens: pki.BootstrapTokens, ca: pki.CertificateAuthority
) -> None:
    issued = tokens.issue("alpha")
    with pytest.raises(EnrolmentError) as caught:
        enrol(enrolment.url, issued.token, "beta", ca.certificate_pem(), timeout=WAIT)
    assert caught.value.status == 403
    assert str(caught.value) == "enrolment failed (403): CSR for cluster 'alpha' also claims 'beta'"
    enrol(enrolment.url, issued.token, "alpha", ca.certificate_pem(), timeout=WAIT)


def test_client_refuses_a_server_outside_the_pinned_ca(
    enrolment: EnrolmentServer, tokens: pki.BootstrapTokens
) -> None:
    other = pki.CertificateAuthority.create("other", curve="P-256")
    issued = tokens.issue("alpha")
    with pytest.raises(EnrolmentError, match="cannot reach the enrolment endpoint"):
        enrol(enrolment.url, issued.token, "alpha", other.certificate_pem(), timeout=WAIT)
    with tokens.redeeming(issued.token) as cluster:  # the TLS check failed first: unused
        assert cluster == "alpha"


def test_token_secret_never_reaches_the_logs(
    enrolment: EnrolmentServer,
    tokens: pki.BootstrapTokens,
    ca: pki.CertificateAuthority,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG)
    issued = tokens.issue("alpha")
    enrol(enrolment.url, issued.token, "alpha", ca.certificate_pem(), timeout=WAIT)
    with pytest.raises(EnrolmentError) as caught:
        enrol(enrolment.url, issued.token, "alpha", ca.certificate_pem(), timeout=WAIT)
    secret = issued.token.split(".")[2]
    assert issued.token_id in caplog.text
    assert secret not in caplog.text
    assert secret not in str(caught.value)


async def test_enrolled_agent_connects_to_the_cell(
    enrolment: EnrolmentServer,
    tokens: pki.BootstrapTokens,
    ca: pki.CertificateAuthority,
    cell: CellServer,
    agents: RunningAgents,
) -> None:
    issued = tokens.issue("alpha")
    credentials = await asyncio.to_thread(
        enrol, enrolment.url, issued.token, "alpha", ca.certificate_pem(), timeout=WAIT
    )
    agents.start(agents.make("alpha", cell.endpoint, credentials))
    await cell.registry.wait_until(
        lambda r: (rec := r.get("alpha")) is not None and rec.heartbeats >= 1, WAIT
    )
