"""The agent's key, client certificate and trusted CA bundle, and its gRPC credentials.

Replaced as a whole on renewal (with a fresh key); the key leaves this object only as the
PEM handed to gRPC and, with :meth:`AgentCredentials.save`, as a 0600 file in the agent's
credentials directory (``tls.key``, ``tls.crt``, ``ca.crt``) that ``lattice agent run``
reloads after a restart.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import grpc
from cryptography import x509
from cryptography.hazmat.primitives.asymmetric import ec

from lattice_pulumi import pki

__all__ = ["AgentCredentials"]


@dataclass(frozen=True)
class AgentCredentials:
    """Key, certificate and CA bundle of one agent."""

    key: ec.EllipticCurvePrivateKey = field(repr=False)
    certificate: x509.Certificate
    ca_bundle_pem: bytes

    @property
    def serial(self) -> int:
        return self.certificate.serial_number

    def renew_due_at(self, fraction: float) -> datetime:
        start = self.certificate.not_valid_before_utc
        end = self.certificate.not_valid_after_utc
        return start + (end - start) * fraction

    def seconds_until_renewal(self, fraction: float, now: datetime | None = None) -> float:
        now = now if now is not None else datetime.now(UTC)
        return max(0.0, (self.renew_due_at(fraction) - now).total_seconds())

    @classmethod
    def issued(
        cls, key: ec.EllipticCurvePrivateKey, certificate_pem: bytes, ca_bundle_pem: bytes
    ) -> AgentCredentials:
        """Credentials from what the cell returned for a CSR made with ``key``."""
        cert = pki.load_certificate(certificate_pem)
        if cert.public_key() != key.public_key():
            raise pki.CertificateError("issued certificate does not match the agent's key")
        pki.TrustBundle.from_pem(ca_bundle_pem)
        return cls(key, cert, ca_bundle_pem)

    def save(self, directory: Path) -> None:
        """Write ``tls.key`` (0600), ``tls.crt`` and ``ca.crt``, each replaced atomically."""
        directory.mkdir(mode=0o700, parents=True, exist_ok=True)
        files = {
            "tls.key": pki.private_key_pem(self.key),
            "tls.crt": pki.certificate_pem(self.certificate),
            "ca.crt": self.ca_bundle_pem,
        }
        for name, data in files.items():
            partial = directory / f".{name}.tmp"
            fd = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
            with os.fdopen(fd, "wb") as stream:
                stream.write(data)
            os.replace(partial, directory / name)

    @classmethod
    def load(cls, directory: Path) -> AgentCredentials:
        """Credentials saved by :meth:`save`; ``CertificateError`` if missing or unusable."""
        try:
            key = (directory / "tls.key").read_bytes()
            cert = (directory / "tls.crt").read_bytes()
            bundle = (directory / "ca.crt").read_bytes()
        except OSError as exc:
            raise pki.CertificateError(
                f"no agent credentials in {directory}: {exc.strerror}"
            ) from None
        return cls.issued(pki.load_private_key(key), cert, bundle)

    def channel_credentials(self) -> grpc.ChannelCredentials:
        return grpc.ssl_channel_credentials(
            root_certificates=self.ca_bundle_pem,
            private_key=pki.private_key_pem(self.key),
            certificate_chain=pki.certificate_pem(self.certificate),
        )
