"""Operator certificates: a separate identity kind that clusters can never present."""

from __future__ import annotations

import pytest

from lattice_pulumi import pki


@pytest.fixture(scope="module")
def ca() -> pki.CertificateAuthority:
    return pki.CertificateAuthority.create("unit", curve="P-256")


def test_operator_certificate_carries_the_operator_identity(ca: pki.CertificateAuthority) -> None:
    issued = ca.issue_operator_certificate(pki.OperatorIdentity("lattice-cli"))
    identity = pki.operator_from_certificate(issued.certificate)
    assert identity.uri == "spiffe://lattice.local/operator/lattice-cli"
    assert ca.issued(issued.certificate)


def test_an_operator_certificate_is_not_a_cluster_identity(ca: pki.CertificateAuthority) -> None:
    issued = ca.issue_operator_certificate(pki.OperatorIdentity("lattice-cli"))
    with pytest.raises(pki.CertificateError, match="not a cluster identity URI"):
        pki.identity_from_certificate(issued.certificate)


def test_a_cluster_certificate_is_not_an_operator(ca: pki.CertificateAuthority) -> None:
    identity = pki.ClusterIdentity("root")
    cert = ca.sign_client_csr(pki.build_csr(pki.generate_private_key(), identity), identity)
    with pytest.raises(pki.CertificateError, match="does not carry an operator identity"):
        pki.operator_from_certificate(cert)


def test_an_operator_of_another_trust_domain_is_refused(ca: pki.CertificateAuthority) -> None:
    issued = ca.issue_operator_certificate(pki.OperatorIdentity("ops", "other.domain"))
    with pytest.raises(pki.CertificateError, match="does not carry an operator identity"):
        pki.operator_from_certificate(issued.certificate)


def test_token_records_survive_a_json_round_trip() -> None:
    tokens = pki.BootstrapTokens()
    issued = tokens.issue("alpha")
    records = {k: pki.TokenRecord.from_json(r.to_json()) for k, r in tokens.records().items()}
    with pki.BootstrapTokens(records=records).redeeming(issued.token) as cluster:
        assert cluster == "alpha"
