"""CA rotation: the trust bundle keeps the old CA until every agent holds a new certificate.

The cell owns one :class:`CellAuthority`: it signs with the newest CA, hands agents the
current :class:`TrustBundle`, and records which clusters have renewed. When a rotation starts
the bundle holds new and old CA; once every known cluster has a certificate from the new CA
the old one leaves the bundle.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable
from dataclasses import dataclass

from cryptography import x509

from lattice_pulumi.pki.ca import CertificateAuthority, certificate_pem, fingerprint
from lattice_pulumi.pki.errors import CertificateError

__all__ = ["CellAuthority", "TrustBundle"]

_PEM_END = b"-----END CERTIFICATE-----"


@dataclass(frozen=True)
class TrustBundle:
    """CA certificates a peer should trust, newest first."""

    certificates: tuple[x509.Certificate, ...]

    def pem(self) -> bytes:
        return b"".join(certificate_pem(c) for c in self.certificates)

    @classmethod
    def from_pem(cls, pem: bytes) -> TrustBundle:
        try:
            certs = tuple(x509.load_pem_x509_certificates(pem))
        except ValueError:
            raise CertificateError("trust bundle is not a list of PEM certificates") from None
        return cls(certs)

    def fingerprints(self) -> list[str]:
        return [fingerprint(c) for c in self.certificates]


class CellAuthority:
    """The CA the cell signs with, the bundle it trusts, and the state of a rotation.

    Thread-safe: the enrolment server records certificates from its own threads.
    """

    def __init__(self, ca: CertificateAuthority) -> None:
        self._lock = threading.Lock()
        self._current = ca
        self._previous: CertificateAuthority | None = None
        self._pending: set[str] = set()

    @property
    def signer(self) -> CertificateAuthority:
        return self._current

    @property
    def rotating(self) -> bool:
        return self._previous is not None

    def pending(self) -> list[str]:
        """Clusters still holding only a certificate from the old CA (sorted)."""
        with self._lock:
            return sorted(self._pending)

    def bundle(self) -> TrustBundle:
        with self._lock:
            cas = [self._current] + ([self._previous] if self._previous else [])
        return TrustBundle(tuple(ca.certificate for ca in cas))

    def start_rotation(self, new: CertificateAuthority, clusters: Iterable[str]) -> None:
        """Sign with ``new`` from now on; keep trusting the old CA until ``clusters`` renew."""
        with self._lock:
            if self._previous is not None:
                raise CertificateError("a CA rotation is already in progress")
            self._previous, self._current = self._current, new
            self._pending = set(clusters)
            self._finish_if_done()

    def record_certificate(self, cluster: str, cert: x509.Certificate) -> None:
        """Note that ``cluster`` now holds ``cert`` (after enrolment or renewal)."""
        with self._lock:
            if self._current.issued(cert):
                self._pending.discard(cluster)
                self._finish_if_done()

    def _finish_if_done(self) -> None:
        if self._previous is not None and not self._pending:
            self._previous = None
