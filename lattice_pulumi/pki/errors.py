"""Errors of the PKI layer: bad certificates, identity mismatches and bootstrap-token failures.

Raised by :mod:`lattice_pulumi.pki` and mapped to HTTP statuses by the enrolment server and
to gRPC statuses by the cell::

    LatticeError
    └── PkiError
        ├── CertificateError           a CSR or certificate the cell will not accept (400)
        ├── IdentityMismatchError      a CSR or message names another cluster        (403)
        └── TokenError                 a bootstrap token was refused
            ├── TokenInvalidError      unknown, malformed or expired token           (401)
            └── TokenReplayedError     the token was already used                    (410)

Messages never contain a token secret or a private key.
"""

from __future__ import annotations

from lattice_pulumi.errors import LatticeError

__all__ = [
    "CertificateError",
    "IdentityMismatchError",
    "PkiError",
    "TokenError",
    "TokenInvalidError",
    "TokenReplayedError",
]


class PkiError(LatticeError):
    """Root of the PKI errors; ``http_status`` is what the enrolment endpoint answers."""

    http_status = 400


class CertificateError(PkiError):
    """A CSR or certificate is malformed, badly signed or uses a disallowed algorithm."""

    http_status = 400


class IdentityMismatchError(PkiError):
    """A CSR or message claims a cluster identity other than the one it is bound to."""

    http_status = 403


class TokenError(PkiError):
    """A bootstrap token was refused."""

    http_status = 401


class TokenInvalidError(TokenError):
    """The token is unknown, malformed or expired."""

    http_status = 401


class TokenReplayedError(TokenError):
    """The token was valid once and has already been used."""

    http_status = 410
