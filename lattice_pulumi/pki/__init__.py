"""PKI for the cell/agent channel: CA, client and server certificates, bootstrap tokens.

Pure library code on top of ``cryptography`` (no network, no ``pulumi``). The cell uses it to
sign and check; the agent uses it to make its key and CSRs.
"""

from lattice_pulumi.pki.ca import (
    CertificateAuthority,
    IssuedCertificate,
    certificate_pem,
    fingerprint,
    load_certificate,
)
from lattice_pulumi.pki.errors import (
    CertificateError,
    IdentityMismatchError,
    PkiError,
    TokenError,
    TokenInvalidError,
    TokenReplayedError,
)
from lattice_pulumi.pki.identity import (
    DEFAULT_TRUST_DOMAIN,
    ClusterIdentity,
    OperatorIdentity,
    identity_from_certificate,
    operator_from_certificate,
    validate_cluster_name,
)
from lattice_pulumi.pki.keys import (
    build_csr,
    generate_private_key,
    load_private_key,
    private_key_pem,
)
from lattice_pulumi.pki.rotation import CellAuthority, TrustBundle
from lattice_pulumi.pki.tokens import BootstrapTokens, IssuedToken, TokenRecord, token_id_of

__all__ = [
    "DEFAULT_TRUST_DOMAIN",
    "BootstrapTokens",
    "CellAuthority",
    "CertificateAuthority",
    "CertificateError",
    "ClusterIdentity",
    "IdentityMismatchError",
    "IssuedCertificate",
    "IssuedToken",
    "OperatorIdentity",
    "PkiError",
    "TokenError",
    "TokenInvalidError",
    "TokenRecord",
    "TokenReplayedError",
    "TrustBundle",
    "build_csr",
    "certificate_pem",
    "fingerprint",
    "generate_private_key",
    "identity_from_certificate",
    "load_certificate",
    "load_private_key",
    "operator_from_certificate",
    "private_key_pem",
    "token_id_of",
    "validate_cluster_name",
]
