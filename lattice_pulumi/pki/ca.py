"""The cell's certificate authority: self-signed ECDSA root, server certificates, client signing.

The cell (``lattice_pulumi.cell``) uses one :class:`CertificateAuthority` to issue its own TLS
server certificate and to sign the short-lived client certificates agents obtain through
enrolment or renewal. The CA always sets the subject itself from the cluster identity; what
a CSR asks for is only checked, never copied.
"""

from __future__ import annotations

import hashlib
import ipaddress
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from lattice_pulumi.pki import keys
from lattice_pulumi.pki.errors import CertificateError, IdentityMismatchError
from lattice_pulumi.pki.identity import ClusterIdentity, OperatorIdentity, claimed_names

__all__ = [
    "CertificateAuthority",
    "IssuedCertificate",
    "certificate_pem",
    "fingerprint",
    "load_certificate",
]

_SKEW = timedelta(minutes=5)  # tolerated clock difference between cell and agents


def certificate_pem(cert: x509.Certificate) -> bytes:
    return cert.public_bytes(serialization.Encoding.PEM)


def load_certificate(pem: bytes) -> x509.Certificate:
    try:
        return x509.load_pem_x509_certificate(pem)
    except ValueError:
        raise CertificateError("not a readable PEM certificate") from None


def fingerprint(cert: x509.Certificate) -> str:
    """SHA-256 of the DER encoding, hex: how logs and registries name a certificate."""
    return hashlib.sha256(cert.public_bytes(serialization.Encoding.DER)).hexdigest()


def _now(now: datetime | None) -> datetime:
    return now if now is not None else datetime.now(UTC)


@dataclass(frozen=True)
class IssuedCertificate:
    """A certificate with the private key made for it (server certificates only)."""

    certificate: x509.Certificate
    key: ec.EllipticCurvePrivateKey = field(repr=False)

    def certificate_pem(self) -> bytes:
        return certificate_pem(self.certificate)

    def key_pem(self) -> bytes:
        return keys.private_key_pem(self.key)


@dataclass(frozen=True)
class CertificateAuthority:
    """A self-signed CA certificate and its key."""

    certificate: x509.Certificate
    key: ec.EllipticCurvePrivateKey = field(repr=False)

    @classmethod
    def create(
        cls,
        name: str,
        *,
        curve: keys.Curve = "P-384",
        lifetime: timedelta = timedelta(days=3650),
        now: datetime | None = None,
    ) -> CertificateAuthority:
        key = keys.generate_private_key(curve)
        start = _now(now)
        subject = x509.Name(
            [
                x509.NameAttribute(NameOID.ORGANIZATION_NAME, "lattice"),
                x509.NameAttribute(NameOID.COMMON_NAME, f"lattice cell CA {name}"),
            ]
        )
        public = key.public_key()
        cert = (
            x509.CertificateBuilder()
            .subject_name(subject)
            .issuer_name(subject)
            .public_key(public)
            .serial_number(x509.random_serial_number())
            .not_valid_before(start - _SKEW)
            .not_valid_after(start + lifetime)
            .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
            .add_extension(_key_usage(ca=True), critical=True)
            .add_extension(x509.SubjectKeyIdentifier.from_public_key(public), critical=False)
            .sign(key, keys.hash_for(key))
        )
        return cls(cert, key)

    @classmethod
    def from_pem(cls, cert_pem: bytes, key_pem: bytes) -> CertificateAuthority:
        cert = load_certificate(cert_pem)
        key = keys.load_private_key(key_pem)
        if cert.public_key() != key.public_key():
            raise CertificateError("CA key does not match the CA certificate")
        return cls(cert, key)

    @property
    def fingerprint(self) -> str:
        return fingerprint(self.certificate)

    def certificate_pem(self) -> bytes:
        return certificate_pem(self.certificate)

    def key_pem(self) -> bytes:
        return keys.private_key_pem(self.key)

    def issued(self, cert: x509.Certificate) -> bool:
        """Whether ``cert`` was signed by this CA's key."""
        try:
            cert.verify_directly_issued_by(self.certificate)
        except (ValueError, TypeError, InvalidSignature):
            return False
        return True

    def issue_server_certificate(
        self,
        hosts: Sequence[str],
        *,
        curve: keys.Curve = "P-256",
        lifetime: timedelta = timedelta(days=90),
        now: datetime | None = None,
    ) -> IssuedCertificate:
        """A TLS server certificate for the cell, valid for each DNS name or IP in ``hosts``."""
        if not hosts:
            raise CertificateError("a server certificate needs at least one host name or IP")
        key = keys.generate_private_key(curve)
        names: list[x509.GeneralName] = []
        for host in hosts:
            try:
                names.append(x509.IPAddress(ipaddress.ip_address(host)))
            except ValueError:
                names.append(x509.DNSName(host))
        subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, hosts[0])])
        builder = self._leaf(subject, key.public_key(), lifetime, now)
        cert = (
            builder.add_extension(x509.SubjectAlternativeName(names), critical=False)
            .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
            .sign(self.key, keys.hash_for(self.key))
        )
        return IssuedCertificate(cert, key)

    def issue_operator_certificate(
        self,
        identity: OperatorIdentity,
        *,
        curve: keys.Curve = "P-256",
        lifetime: timedelta = timedelta(days=30),
        now: datetime | None = None,
    ) -> IssuedCertificate:
        """A client certificate (with a fresh key) for an operator reading the fleet view."""
        key = keys.generate_private_key(curve)
        cert = (
            self._leaf(identity.subject(), key.public_key(), lifetime, now)
            .add_extension(
                x509.SubjectAlternativeName([x509.UniformResourceIdentifier(identity.uri)]),
                critical=False,
            )
            .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.CLIENT_AUTH]), critical=False)
            .sign(self.key, keys.hash_for(self.key))
        )
        return IssuedCertificate(cert, key)

    def sign_client_csr(
        self,
        csr_pem: bytes,
        identity: ClusterIdentity,
        *,
        lifetime: timedelta = timedelta(hours=24),
        now: datetime | None = None,
    ) -> x509.Certificate:
        """Sign a short-lived client certificate for ``identity`` using the CSR's public key.

        The subject and SAN come from ``identity``; a CSR naming any other cluster is refused
        with :class:`IdentityMismatchError`.
        """
        csr = keys.load_csr(csr_pem)
        try:
            san: x509.SubjectAlternativeName | None = csr.extensions.get_extension_for_class(
                x509.SubjectAlternativeName
            ).value
        except x509.ExtensionNotFound:
            san = None
        foreign = sorted(claimed_names(csr.subject, san) - {identity.name})
        if foreign:
            raise IdentityMismatchError(
                f"CSR for cluster {identity.name!r} also claims {', '.join(map(repr, foreign))}"
            )
        builder = self._leaf(
            identity.subject(), keys.check_public_key(csr.public_key()), lifetime, now
        )
        return (
            builder.add_extension(
                x509.SubjectAlternativeName([x509.UniformResourceIdentifier(identity.uri)]),
                critical=False,
            )
            .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.CLIENT_AUTH]), critical=False)
            .sign(self.key, keys.hash_for(self.key))
        )

    def _leaf(
        self,
        subject: x509.Name,
        public: ec.EllipticCurvePublicKey,
        lifetime: timedelta,
        now: datetime | None,
    ) -> x509.CertificateBuilder:
        start = _now(now)
        end = min(start + lifetime, self.certificate.not_valid_after_utc)
        return (
            x509.CertificateBuilder()
            .subject_name(subject)
            .issuer_name(self.certificate.subject)
            .public_key(public)
            .serial_number(x509.random_serial_number())
            .not_valid_before(max(start - _SKEW, self.certificate.not_valid_before_utc))
            .not_valid_after(end)
            .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
            .add_extension(_key_usage(ca=False), critical=True)
            .add_extension(x509.SubjectKeyIdentifier.from_public_key(public), critical=False)
            .add_extension(
                x509.AuthorityKeyIdentifier.from_issuer_public_key(self.key.public_key()),
                critical=False,
            )
        )


def _key_usage(*, ca: bool) -> x509.KeyUsage:
    return x509.KeyUsage(
        digital_signature=True,
        content_commitment=False,
        key_encipherment=False,
        data_encipherment=False,
        key_agreement=False,
        key_cert_sign=ca,
        crl_sign=ca,
        encipher_only=False,
        decipher_only=False,
    )
