"""One-time, expiring bootstrap tokens that let a new child cluster enrol with its parent.

The parent issues one token per child (``BootstrapTokens.issue``) and hands it over out of
band; only the SHA-256 of the secret part is stored. The enrolment server redeems a token
inside :meth:`BootstrapTokens.redeeming`: the token is burnt only if enrolment succeeds, and
the lock makes a concurrent replay impossible.

A token reads ``lt1.<id>.<secret>``: the id selects the record (and may be logged), the
secret is compared in constant time and never logged. :meth:`BootstrapTokens.records` and
the ``records=`` argument let a caller persist the store (hashes only; see
``lattice_pulumi.cell.tokenstore``).
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta

from lattice_pulumi.pki.errors import TokenInvalidError, TokenReplayedError
from lattice_pulumi.pki.identity import validate_cluster_name

__all__ = ["BootstrapTokens", "IssuedToken", "TokenRecord", "token_id_of"]

_PREFIX = "lt1"


def _utcnow() -> datetime:
    return datetime.now(UTC)


def _digest(secret: str) -> bytes:
    return hashlib.sha256(secret.encode()).digest()


def token_id_of(token: str) -> str:
    """The loggable id part of a token ("?" when the token is malformed)."""
    parts = token.split(".")
    return parts[1] if len(parts) == 3 and parts[0] == _PREFIX else "?"


@dataclass(frozen=True)
class IssuedToken:
    """A freshly issued token: the only time the full secret exists on the parent."""

    token: str = field(repr=False)
    token_id: str
    cluster: str
    expires_at: datetime


@dataclass
class TokenRecord:
    """What the parent keeps of one token: its cluster, the secret's SHA-256, its lifetime."""

    cluster: str
    secret_hash: bytes = field(repr=False)
    expires_at: datetime
    used_at: datetime | None = None

    def to_json(self) -> dict[str, str | None]:
        return {
            "cluster": self.cluster,
            "sha256": self.secret_hash.hex(),
            "expiresAt": self.expires_at.isoformat(),
            "usedAt": self.used_at.isoformat() if self.used_at else None,
        }

    @classmethod
    def from_json(cls, data: dict[str, str | None]) -> TokenRecord:
        used = data.get("usedAt")
        return cls(
            str(data["cluster"]),
            bytes.fromhex(str(data["sha256"])),
            datetime.fromisoformat(str(data["expiresAt"])),
            datetime.fromisoformat(used) if used else None,
        )


class BootstrapTokens:
    """In-memory store of token hashes, keyed by token id."""

    def __init__(
        self,
        *,
        clock: Callable[[], datetime] = _utcnow,
        records: dict[str, TokenRecord] | None = None,
    ) -> None:
        self._clock = clock
        self._records: dict[str, TokenRecord] = dict(records or {})
        self._lock = threading.Lock()

    def records(self) -> dict[str, TokenRecord]:
        """A copy of every record by token id (hashes only: no secret is ever kept)."""
        with self._lock:
            return {k: replace(r) for k, r in self._records.items()}

    def issue(self, cluster: str, ttl: timedelta = timedelta(hours=1)) -> IssuedToken:
        """A new one-time token for ``cluster``, valid for ``ttl``."""
        validate_cluster_name(cluster)
        if ttl <= timedelta(0):
            raise ValueError("token ttl must be positive")
        token_id = secrets.token_hex(8)
        secret = secrets.token_urlsafe(32)
        expires_at = self._clock() + ttl
        with self._lock:
            self._records[token_id] = TokenRecord(cluster, _digest(secret), expires_at)
        return IssuedToken(f"{_PREFIX}.{token_id}.{secret}", token_id, cluster, expires_at)

    def revoke(self, token_id: str) -> None:
        with self._lock:
            self._records.pop(token_id, None)

    def prune(self) -> int:
        """Forget expired records; returns how many. (Replays of those then answer 401.)"""
        now = self._clock()
        with self._lock:
            stale = [k for k, r in self._records.items() if r.expires_at <= now]
            for key in stale:
                del self._records[key]
        return len(stale)

    @contextmanager
    def redeeming(self, token: str) -> Iterator[str]:
        """Check ``token`` and yield its cluster name; burn it if the block succeeds.

        Raises :class:`TokenReplayedError` for a used token and :class:`TokenInvalidError` for an
        unknown, malformed or expired one. The store stays locked for the whole block.
        """
        with self._lock:
            record = self._lookup(token)
            yield record.cluster
            record.used_at = self._clock()

    def _lookup(self, token: str) -> TokenRecord:
        parts = token.split(".")
        if len(parts) != 3 or parts[0] != _PREFIX:
            raise TokenInvalidError("bootstrap token is malformed")
        token_id, secret = parts[1], parts[2]
        record = self._records.get(token_id)
        if record is None or not hmac.compare_digest(_digest(secret), record.secret_hash):
            raise TokenInvalidError(f"bootstrap token {token_id} is not known")
        if record.used_at is not None:
            raise TokenReplayedError(f"bootstrap token {token_id} was already used")
        if record.expires_at <= self._clock():
            raise TokenInvalidError(f"bootstrap token {token_id} has expired")
        return record
