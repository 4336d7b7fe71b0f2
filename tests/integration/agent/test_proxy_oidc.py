"""OIDC tokens at the API proxy: discovery, JWKS rotation, claims, and kubectl through it.

The identity provider is tests.fakes.oidc.FakeOIDCIssuer (no real one can run here); it
serves discovery and JWKS over real TLS on loopback.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Callable
from pathlib import Path

import pytest
from conftest import CellFactory, RunningAgents
from harness.control_plane import ControlPlane
from proxy_support import kubectl, running_fleet

from lattice_pulumi import pki
from lattice_pulumi.cell import (
    AuthenticationError,
    Caller,
    ChainAuthenticator,
    OIDCAuthenticator,
    OIDCConfig,
)
from tests.fakes.oidc import FakeOIDCIssuer

CLIENT_ID = "lattice-cli"


class Refusing:
    """Stands where TokenReview would: names what reached it."""

    def __init__(self) -> None:
        self.seen: list[str] = []

    async def authenticate(self, token: str) -> Caller:
        self.seen.append(token)
        raise AuthenticationError("not a token of the reviewing API server")


@pytest.fixture
async def issuer(
    ca: pki.CertificateAuthority, server_certificate: pki.IssuedCertificate
) -> AsyncIterator[FakeOIDCIssuer]:
    fake = FakeOIDCIssuer(server_certificate)
    await fake.start()
    yield fake
    await fake.stop()


def authenticator(issuer: FakeOIDCIssuer, ca: pki.CertificateAuthority) -> OIDCAuthenticator:
    config = OIDCConfig(issuer.issuer, CLIENT_ID, ca_pem=ca.certificate_pem(), min_refresh=0)
    return OIDCAuthenticator(config)


async def test_claims_become_a_prefixed_user_and_groups(
    issuer: FakeOIDCIssuer, ca: pki.CertificateAuthority
) -> None:
    oidc = authenticator(issuer, ca)
    caller = await oidc.authenticate(issuer.issue("dana", ["ops", "dev"], CLIENT_ID))
    assert caller == Caller("oidc:dana", ("oidc:ops", "oidc:dev", "system:authenticated"))
    await oidc.authenticate(issuer.issue("erin", [], CLIENT_ID))
    assert issuer.jwks_reads == 1  # cached


@pytest.mark.parametrize(
    ("make", "reason"),
    [
        pytest.param(
            lambda i: i.issue("dana", [], "someone-else"), "Audience doesn't match",
            id="another audience",
        ),
        pytest.param(
            lambda i: i.issue("dana", [], CLIENT_ID, lifetime=-120), "Signature has expired",
            id="expired",
        ),
        pytest.param(
            lambda i: i.issue("dana", "ops", CLIENT_ID), "'groups' is not a list",
            id="groups not a list",
        ),
        pytest.param(lambda i: "not-a-jwt", "malformed token", id="not a JWT"),
    ],
)  # fmt: skip
async def test_bad_tokens_are_refused_with_a_reason(
    issuer: FakeOIDCIssuer,
    ca: pki.CertificateAuthority,
    make: Callable[[FakeOIDCIssuer], str],
    reason: str,
) -> None:
    with pytest.raises(AuthenticationError, match=reason):
        await authenticator(issuer, ca).authenticate(make(issuer))


async def test_a_rotated_key_is_fetched_and_the_old_one_stops_working(
    issuer: FakeOIDCIssuer, ca: pki.CertificateAuthority
) -> None:
    oidc = authenticator(issuer, ca)
    before = issuer.issue("dana", [], CLIENT_ID)
    await oidc.authenticate(before)
    issuer.rotate()
    after = issuer.issue("dana", [], CLIENT_ID)
    assert (await oidc.authenticate(after)).user == "oidc:dana"
    assert issuer.jwks_reads == 2
    with pytest.raises(AuthenticationError, match="unknown key"):
        await oidc.authenticate(before)


async def test_a_forged_signature_is_refused(
    issuer: FakeOIDCIssuer, ca: pki.CertificateAuthority
) -> None:
    other = FakeOIDCIssuer(pki.CertificateAuthority.create("x").issue_server_certificate(["a"]))
    other.port = issuer.port  # same issuer URL and key id scheme, different key
    other._kid = issuer._kid
    with pytest.raises(AuthenticationError, match="Signature verification failed"):
        await authenticator(issuer, ca).authenticate(other.issue("mallory", ["ops"], CLIENT_ID))


async def test_the_chain_sends_other_issuers_to_token_review(
    issuer: FakeOIDCIssuer, ca: pki.CertificateAuthority
) -> None:
    review = Refusing()
    chain = ChainAuthenticator([authenticator(issuer, ca)], review)
    assert (await chain.authenticate(issuer.issue("dana", [], CLIENT_ID))).user == "oidc:dana"
    with pytest.raises(AuthenticationError, match="reviewing API server"):
        await chain.authenticate("opaque-token")
    assert review.seen == ["opaque-token"]


@pytest.mark.integration
async def test_kubectl_with_an_oidc_token_through_two_hops(
    control_plane: ControlPlane,
    proxy_children: dict[str, ControlPlane],
    cell_factory: CellFactory,
    agents: RunningAgents,
    ca: pki.CertificateAuthority,
    server_certificate: pki.IssuedCertificate,
    issuer: FakeOIDCIssuer,
    tmp_path: Path,
) -> None:
    oidc = (authenticator(issuer, ca),)
    async with running_fleet(
        control_plane, proxy_children, cell_factory, agents, ca, server_certificate, tmp_path, oidc
    ) as fleet:
        fleet.tokens["dana"] = issuer.issue("dana", ["ops"], CLIENT_ID)
        dana = fleet.kubeconfig("dana", "us-east")
        code, out, err = await kubectl(dana, "create", "configmap", "nope")
        assert code != 0  # ops may get and list, not create
        assert "user oidc:dana may not create configmaps in namespace default" in err
        code, out, err = await kubectl(dana, "get", "namespaces", "-o", "json")
        assert code == 0, err
        assert "kube-system" in {n["metadata"]["name"] for n in json.loads(out)["items"]}
        code, _, err = await kubectl(dana, "delete", "namespace", "default")
        assert code != 0 and 'Lattice::User::"oidc:dana"' in err
