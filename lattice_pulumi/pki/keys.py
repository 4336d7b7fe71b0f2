"""Key pairs and CSRs restricted to FIPS-approved algorithms (ECDSA on P-256 or P-384).

Used by the agent (to make its key and CSRs) and by the CA (to check what it signs).
Private keys are handled as objects or PEM bytes and never rendered into messages.
"""

from __future__ import annotations

from typing import Literal

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec

from lattice_pulumi.pki.errors import CertificateError
from lattice_pulumi.pki.identity import ClusterIdentity

__all__ = [
    "Curve",
    "build_csr",
    "check_public_key",
    "generate_private_key",
    "hash_for",
    "load_csr",
    "load_private_key",
    "private_key_pem",
]

Curve = Literal["P-256", "P-384"]

_CURVES: dict[str, type[ec.EllipticCurve]] = {
    "P-256": ec.SECP256R1,
    "P-384": ec.SECP384R1,
}


def generate_private_key(curve: Curve = "P-256") -> ec.EllipticCurvePrivateKey:
    """A fresh ECDSA key on an approved curve."""
    if curve not in _CURVES:
        raise CertificateError(f"curve {curve!r} is not allowed: use P-256 or P-384")
    return ec.generate_private_key(_CURVES[curve]())


def hash_for(
    key: ec.EllipticCurvePublicKey | ec.EllipticCurvePrivateKey,
) -> hashes.SHA256 | hashes.SHA384:
    """The signature hash matching the key's strength (SHA-256 for P-256, SHA-384 for P-384)."""
    name = key.curve.name
    if name == "secp256r1":
        return hashes.SHA256()
    if name == "secp384r1":
        return hashes.SHA384()
    raise CertificateError(f"curve {name!r} is not allowed: use P-256 or P-384")


def check_public_key(key: object) -> ec.EllipticCurvePublicKey:
    """Return ``key`` if it is an ECDSA key on an approved curve."""
    if not isinstance(key, ec.EllipticCurvePublicKey):
        raise CertificateError(
            f"{type(key).__name__} keys are not allowed: use ECDSA P-256 or P-384"
        )
    hash_for(key)
    return key


def private_key_pem(key: ec.EllipticCurvePrivateKey) -> bytes:
    """Unencrypted PKCS#8 PEM (for in-memory hand-off and files with 0600 permissions)."""
    return key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )


def load_private_key(pem: bytes) -> ec.EllipticCurvePrivateKey:
    """Parse a PEM private key, refusing anything but ECDSA P-256/P-384."""
    try:
        key = serialization.load_pem_private_key(pem, password=None)
    except (ValueError, TypeError):
        # `from None`: the parser's message may quote parts of the key.
        raise CertificateError("private key is not a readable unencrypted PEM key") from None
    if not isinstance(key, ec.EllipticCurvePrivateKey):
        raise CertificateError(f"{type(key).__name__} keys are not allowed: use ECDSA")
    check_public_key(key.public_key())
    return key


def build_csr(key: ec.EllipticCurvePrivateKey, identity: ClusterIdentity) -> bytes:
    """A PEM CSR naming ``identity`` (the cell overrides the subject anyway)."""
    csr = (
        x509.CertificateSigningRequestBuilder()
        .subject_name(identity.subject())
        .add_extension(
            x509.SubjectAlternativeName([x509.UniformResourceIdentifier(identity.uri)]),
            critical=False,
        )
        .sign(key, hash_for(key))
    )
    return csr.public_bytes(serialization.Encoding.PEM)


def load_csr(pem: bytes) -> x509.CertificateSigningRequest:
    """Parse a PEM CSR and check its self-signature and key algorithm."""
    try:
        csr = x509.load_pem_x509_csr(pem)
    except ValueError:
        raise CertificateError("CSR is not a readable PEM certificate request") from None
    check_public_key(csr.public_key())
    if not csr.is_signature_valid:
        raise CertificateError("CSR signature does not verify")
    return csr
