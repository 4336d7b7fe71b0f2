"""Identities as they appear in certificates: a common name plus a SPIFFE-like URI.

Clusters (``spiffe://<domain>/cluster/<name>``): the cell writes both into every client
certificate it signs and reads them back from the peer certificate of each connection
(``lattice_pulumi.cell``); enrolment uses them to check that a CSR does not ask for another
cluster's identity. Operators (``spiffe://<domain>/operator/<name>``, e.g. ``lattice-cli``)
are people or tools allowed to read the cell's fleet view; the two kinds never overlap, so
an operator certificate cannot open an agent session and a cluster certificate cannot read
the fleet.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from cryptography import x509
from cryptography.x509.oid import NameOID

from lattice_pulumi.pki.errors import CertificateError

__all__ = [
    "DEFAULT_TRUST_DOMAIN",
    "ClusterIdentity",
    "OperatorIdentity",
    "claimed_names",
    "identity_from_certificate",
    "operator_from_certificate",
    "validate_cluster_name",
]

DEFAULT_TRUST_DOMAIN = "lattice.local"
_NAME = re.compile(r"^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$")
_URI_PREFIX = "spiffe://"


def validate_cluster_name(name: str) -> str:
    """Return ``name`` if it is an RFC 1123 label (what Kubernetes accepts as a cluster name)."""
    if not _NAME.match(name):
        raise CertificateError(
            f"invalid cluster name {name!r}: expected a lowercase RFC 1123 label "
            "(letters, digits, '-', at most 63 characters)"
        )
    return name


@dataclass(frozen=True)
class ClusterIdentity:
    """Who a certificate speaks for: ``CN=<name>`` and ``spiffe://<domain>/cluster/<name>``."""

    name: str
    trust_domain: str = DEFAULT_TRUST_DOMAIN

    def __post_init__(self) -> None:
        validate_cluster_name(self.name)

    @property
    def uri(self) -> str:
        return f"{_URI_PREFIX}{self.trust_domain}/cluster/{self.name}"

    def subject(self) -> x509.Name:
        return x509.Name(
            [
                x509.NameAttribute(NameOID.ORGANIZATION_NAME, "lattice"),
                x509.NameAttribute(NameOID.COMMON_NAME, self.name),
            ]
        )

    @classmethod
    def from_uri(cls, uri: str) -> ClusterIdentity:
        """Parse ``spiffe://<domain>/cluster/<name>``; anything else is a CertificateError."""
        if not uri.startswith(_URI_PREFIX):
            raise CertificateError(f"not a cluster identity URI: {uri!r}")
        domain, _, path = uri[len(_URI_PREFIX) :].partition("/")
        kind, _, name = path.partition("/")
        if not domain or kind != "cluster" or not name or "/" in name:
            raise CertificateError(f"not a cluster identity URI: {uri!r}")
        return cls(name, domain)


def claimed_names(name: x509.Name, san: x509.SubjectAlternativeName | None) -> set[str]:
    """Every cluster name a subject and SAN claim (common names and identity URIs)."""
    names = {str(a.value) for a in name.get_attributes_for_oid(NameOID.COMMON_NAME)}
    if san is not None:
        for uri in san.get_values_for_type(x509.UniformResourceIdentifier):
            try:
                names.add(ClusterIdentity.from_uri(uri).name)
            except CertificateError:
                names.add(uri)
    return names


def identity_from_certificate(
    cert: x509.Certificate, trust_domain: str = DEFAULT_TRUST_DOMAIN
) -> ClusterIdentity:
    """The single cluster identity of a client certificate signed by the cell.

    The URI SAN is authoritative and must agree with the common name.
    """
    try:
        san = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    except x509.ExtensionNotFound as exc:
        raise CertificateError("certificate carries no cluster identity URI") from exc
    uris = san.get_values_for_type(x509.UniformResourceIdentifier)
    if len(uris) != 1:
        raise CertificateError(f"certificate must carry exactly one identity URI, got {len(uris)}")
    identity = ClusterIdentity.from_uri(uris[0])
    if identity.trust_domain != trust_domain:
        raise CertificateError(
            f"identity {identity.uri!r} is outside trust domain {trust_domain!r}"
        )
    common = [a.value for a in cert.subject.get_attributes_for_oid(NameOID.COMMON_NAME)]
    if common != [identity.name]:
        raise CertificateError(f"common name {common!r} does not match identity {identity.uri!r}")
    return identity


@dataclass(frozen=True)
class OperatorIdentity:
    """An operator: ``CN=<name>, OU=operators`` and ``spiffe://<domain>/operator/<name>``."""

    name: str
    trust_domain: str = DEFAULT_TRUST_DOMAIN

    def __post_init__(self) -> None:
        validate_cluster_name(self.name)

    @property
    def uri(self) -> str:
        return f"{_URI_PREFIX}{self.trust_domain}/operator/{self.name}"

    def subject(self) -> x509.Name:
        return x509.Name(
            [
                x509.NameAttribute(NameOID.ORGANIZATION_NAME, "lattice"),
                x509.NameAttribute(NameOID.ORGANIZATIONAL_UNIT_NAME, "operators"),
                x509.NameAttribute(NameOID.COMMON_NAME, self.name),
            ]
        )


def operator_from_certificate(
    cert: x509.Certificate, trust_domain: str = DEFAULT_TRUST_DOMAIN
) -> OperatorIdentity:
    """The operator identity of a client certificate; a cluster certificate is refused."""
    try:
        san = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    except x509.ExtensionNotFound as exc:
        raise CertificateError("certificate carries no identity URI") from exc
    uris = san.get_values_for_type(x509.UniformResourceIdentifier)
    expected = f"{_URI_PREFIX}{trust_domain}/operator/"
    if len(uris) != 1 or not uris[0].startswith(expected):
        raise CertificateError("certificate does not carry an operator identity")
    identity = OperatorIdentity(uris[0].removeprefix(expected), trust_domain)
    common = [a.value for a in cert.subject.get_attributes_for_oid(NameOID.COMMON_NAME)]
    if common != [identity.name]:
        raise CertificateError(f"common name {common!r} does not match identity {identity.uri!r}")
    return identity
