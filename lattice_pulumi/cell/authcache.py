"""Authenticated callers remembered for a while, never past their token's expiry.

Authentication runs on every proxied request; a TokenReview is an API call and an OIDC
token a signature check, so :class:`AuthCache` keeps each success for ``ttl`` seconds,
bounded by the token's own ``exp`` when the token is a JWT (ServiceAccount and OIDC tokens
are): a token that expires in two seconds is remembered for two seconds at most. The
``exp`` is read without checking the signature, which is safe because only tokens that
were just verified are cached, and it can only shorten the time. Entries are keyed by the
token's SHA-256 (the token itself is never kept); failures are never cached; the cache is
cleared when it holds ``limit`` entries. Used by
:class:`lattice_pulumi.cell.authn.TokenReviewAuthenticator` and
:class:`lattice_pulumi.cell.oidc.ChainAuthenticator`.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
import time
from collections.abc import Callable
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # authn imports this module
    from lattice_pulumi.cell.authn import Caller

__all__ = ["AuthCache", "token_expiry"]

DEFAULT_LIMIT = 10_000


def token_expiry(token: str) -> float | None:
    """The ``exp`` claim (Unix seconds) of a JWT, unverified; ``None`` for other tokens."""
    parts = token.split(".")
    if len(parts) != 3:
        return None
    payload = parts[1] + "=" * (-len(parts[1]) % 4)
    try:
        claims = json.loads(base64.urlsafe_b64decode(payload))
    except (binascii.Error, ValueError):
        return None
    exp = claims.get("exp") if isinstance(claims, dict) else None
    return float(exp) if isinstance(exp, int | float) and not isinstance(exp, bool) else None


class AuthCache:
    """Callers by token hash until ``min(now + ttl, token exp)``."""

    def __init__(
        self,
        ttl: float,
        *,
        limit: int = DEFAULT_LIMIT,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.ttl = ttl
        self._limit = limit
        self._clock = clock
        self._entries: dict[bytes, tuple[float, Caller]] = {}

    @staticmethod
    def _key(token: str) -> bytes:
        return hashlib.sha256(token.encode()).digest()

    def get(self, token: str) -> Caller | None:
        """The caller remembered for ``token``, if still valid."""
        entry = self._entries.get(self._key(token))
        if entry is None:
            return None
        if entry[0] <= self._clock():
            del self._entries[self._key(token)]
            return None
        return entry[1]

    def put(self, token: str, caller: Caller) -> None:
        """Remember ``caller`` for a token that was just verified."""
        if self.ttl <= 0:
            return
        until = self._clock() + self.ttl
        expiry = token_expiry(token)
        if expiry is not None:
            until = min(until, expiry)
        if until <= self._clock():
            return
        if len(self._entries) >= self._limit:
            self._entries.clear()
        self._entries[self._key(token)] = (until, caller)
