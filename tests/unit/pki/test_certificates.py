"""The cell CA: approved algorithms only, subjects set by the CA, identities read back."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from lattice_pulumi import pki


@pytest.fixture(scope="module")
def ca() -> pki.CertificateAuthority:
    return pki.CertificateAuthority.create("test")


def _csr(key: ec.EllipticCurvePrivateKey, cn: str, uris: list[str]) -> bytes:
    builder = x509.CertificateSigningRequestBuilder().subject_name(
        x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, cn)])
    )
    if uris:
        builder = builder.add_extension(
            x509.SubjectAlternativeName([x509.UniformResourceIdentifier(u) for u in uris]),
            critical=False,
        )
    return builder.sign(key, hashes.SHA256()).public_bytes(serialization.Encoding.PEM)


@pytest.mark.parametrize("curve", ["P-256", "P-384"])
def test_ca_uses_the_requested_approved_curve(curve: pki.keys.Curve) -> None:
    ca = pki.CertificateAuthority.create("x", curve=curve)
    key = ca.certificate.public_key()
    assert isinstance(key, ec.EllipticCurvePublicKey)
    assert key.curve.name == {"P-256": "secp256r1", "P-384": "secp384r1"}[curve]
    assert ca.certificate.extensions.get_extension_for_class(x509.BasicConstraints).value.ca


def test_other_curves_are_refused() -> None:
    with pytest.raises(pki.CertificateError, match="curve 'P-521' is not allowed"):
        pki.generate_private_key("P-521")  # type: ignore[arg-type]


def test_signed_client_certificate_carries_the_identity_the_ca_chose(
    ca: pki.CertificateAuthority,
) -> None:
    key = pki.generate_private_key()
    identity = pki.ClusterIdentity("alpha")
    cert = ca.sign_client_csr(pki.build_csr(key, identity), identity)
    assert pki.identity_from_certificate(cert) == identity
    assert ca.issued(cert)
    eku = cert.extensions.get_extension_for_class(x509.ExtendedKeyUsage).value
    assert list(eku) == [ExtendedKeyUsageOID.CLIENT_AUTH]
    assert cert.not_valid_after_utc - cert.not_valid_before_utc <= timedelta(hours=24, minutes=5)


def test_csr_without_identity_gets_the_ca_chosen_subject(ca: pki.CertificateAuthority) -> None:
    key = pki.generate_private_key()
    csr = (
        x509.CertificateSigningRequestBuilder()
        .subject_name(x509.Name([]))
        .sign(key, hashes.SHA256())
    )
    cert = ca.sign_client_csr(
        csr.public_bytes(serialization.Encoding.PEM), pki.ClusterIdentity("alpha")
    )
    assert pki.identity_from_certificate(cert).name == "alpha"


@pytest.mark.parametrize(
    ("cn", "uris", "message"),
    [
        pytest.param("beta", [], "also claims 'beta'", id="common name of another cluster"),
        pytest.param(
            "alpha",
            ["spiffe://lattice.local/cluster/beta"],
            "also claims 'beta'",
            id="identity URI of another cluster",
        ),
    ],
)
def test_csr_for_another_cluster_is_refused(
    ca: pki.CertificateAuthority, cn: str, uris: list[str], message: str
) -> None:
    csr = _csr(pki.generate_private_key(), cn, uris)
    with pytest.raises(pki.IdentityMismatchError, match=message):
        ca.sign_client_csr(csr, pki.ClusterIdentity("alpha"))


def test_rsa_csr_is_refused(ca: pki.CertificateAuthority) -> None:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    csr = (
        x509.CertificateSigningRequestBuilder()
        .subject_name(x509.Name([]))
        .sign(key, hashes.SHA256())
    )
    with pytest.raises(pki.CertificateError, match="RSAPublicKey keys are not allowed"):
        ca.sign_client_csr(
            csr.public_bytes(serialization.Encoding.PEM), pki.ClusterIdentity("alpha")
        )


def test_garbage_csr_is_refused(ca: pki.CertificateAuthority) -> None:
    with pytest.raises(pki.CertificateError, match="not a readable PEM certificate request"):
        ca.sign_client_csr(b"nope", pki.ClusterIdentity("alpha"))


def test_server_certificate_covers_names_and_ips(ca: pki.CertificateAuthority) -> None:
    issued = ca.issue_server_certificate(["cell.example", "127.0.0.1"])
    san = issued.certificate.extensions.get_extension_for_class(x509.SubjectAlternativeName)
    assert san.value.get_values_for_type(x509.DNSName) == ["cell.example"]
    assert [str(ip) for ip in san.value.get_values_for_type(x509.IPAddress)] == ["127.0.0.1"]
    assert ca.issued(issued.certificate)
    assert "key=" not in repr(issued)


def test_leaf_never_outlives_the_ca() -> None:
    now = datetime.now(UTC)
    ca = pki.CertificateAuthority.create("short", lifetime=timedelta(hours=1), now=now)
    issued = ca.issue_server_certificate(["localhost"], lifetime=timedelta(days=90), now=now)
    assert issued.certificate.not_valid_after_utc <= ca.certificate.not_valid_after_utc


def test_ca_round_trips_through_pem(ca: pki.CertificateAuthority) -> None:
    again = pki.CertificateAuthority.from_pem(ca.certificate_pem(), ca.key_pem())
    assert again.fingerprint == ca.fingerprint


def test_mismatched_ca_key_is_refused(ca: pki.CertificateAuthority) -> None:
    other = pki.private_key_pem(pki.generate_private_key("P-384"))
    with pytest.raises(pki.CertificateError, match="does not match"):
        pki.CertificateAuthority.from_pem(ca.certificate_pem(), other)


@pytest.mark.parametrize(
    ("uri", "ok"),
    [
        pytest.param("spiffe://lattice.local/cluster/alpha", True, id="valid"),
        pytest.param("spiffe://lattice.local/node/alpha", False, id="wrong kind"),
        pytest.param("https://lattice.local/cluster/alpha", False, id="wrong scheme"),
        pytest.param("spiffe://lattice.local/cluster/a/b", False, id="nested path"),
    ],
)
def test_identity_uri_parsing(uri: str, ok: bool) -> None:
    if ok:
        assert pki.ClusterIdentity.from_uri(uri).uri == uri
    else:
        with pytest.raises(pki.CertificateError, match="not a cluster identity URI"):
            pki.ClusterIdentity.from_uri(uri)
