"""OIDC bearer tokens for the API proxy: issuer discovery, a JWKS cache that follows key
rotation, claims mapped to a user and groups.

:class:`OIDCAuthenticator` reads ``<issuer>/.well-known/openid-configuration`` once (its
``issuer`` must equal the configured one, as OpenID Connect Discovery requires), then the
JWKS at its ``jwks_uri``. Keys are cached for ``jwks_ttl`` seconds; a token signed with a
key id the cache does not know triggers one early refresh (the issuer rotated its keys), at
most every ``min_refresh`` seconds so unknown key ids cannot make the proxy hammer the
issuer. Tokens are verified with PyJWT: signature (asymmetric algorithms only), ``iss``,
``aud`` (the proxy's client id), ``exp``/``nbf`` with a small leeway. The user is the
``username_claim`` (default ``sub``) with ``username_prefix`` ("oidc:" by default, so an
identity provider can never name a Kubernetes service account or ``system:`` user), the
groups the ``groups_claim`` list with ``groups_prefix``.

:class:`ChainAuthenticator` sends a token to the OIDC authenticator whose issuer its
(unverified) ``iss`` names and everything else to TokenReview, and remembers the callers
it authenticated (:class:`lattice_pulumi.cell.authcache.AuthCache`).
"""

from __future__ import annotations

import asyncio
import json
import ssl
import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import aiohttp
import jwt

from lattice_pulumi.cell.authcache import AuthCache
from lattice_pulumi.cell.authn import AuthenticationError, Authenticator, Caller

__all__ = ["ALGORITHMS", "ChainAuthenticator", "OIDCAuthenticator", "OIDCConfig"]

ALGORITHMS = ["RS256", "RS384", "RS512", "ES256", "ES384", "PS256"]


@dataclass(frozen=True)
class OIDCConfig:
    """One trusted identity provider."""

    issuer: str
    audience: str  # the client id tokens are issued to
    username_claim: str = "sub"
    username_prefix: str = "oidc:"
    groups_claim: str = "groups"
    groups_prefix: str = "oidc:"
    ca_pem: bytes | None = None  # trust for the issuer's HTTPS (default: the system's)
    jwks_ttl: float = 300.0
    min_refresh: float = 10.0
    leeway: float = 30.0


class OIDCAuthenticator:
    """Verifies ID tokens of one issuer."""

    def __init__(self, config: OIDCConfig) -> None:
        self.config = config
        self._keys: dict[str, Any] = {}
        self._fetched = 0.0  # monotonic time of the last JWKS fetch
        self._jwks_uri = ""
        self._lock = asyncio.Lock()
        self.fetches = 0  # JWKS documents fetched (for tests and metrics)

    def _ssl(self) -> ssl.SSLContext:
        pem = self.config.ca_pem
        return ssl.create_default_context(cadata=pem.decode() if pem else None)

    async def _get_json(self, url: str) -> dict[str, Any]:
        timeout = aiohttp.ClientTimeout(total=10)
        try:
            async with (
                aiohttp.ClientSession(timeout=timeout) as session,
                session.get(url, ssl=self._ssl()) as response,
            ):
                if response.status != 200:
                    raise AuthenticationError(f"OIDC issuer: {url} answered {response.status}")
                data = json.loads(await response.read())
        except (aiohttp.ClientError, TimeoutError, ValueError) as exc:
            raise AuthenticationError(f"OIDC issuer unreachable ({url}): {exc}") from None
        if not isinstance(data, dict):
            raise AuthenticationError(f"OIDC issuer: {url} is not a JSON object")
        return data

    async def _refresh(self) -> None:
        if not self._jwks_uri:
            base = self.config.issuer.rstrip("/")
            discovery = await self._get_json(f"{base}/.well-known/openid-configuration")
            if discovery.get("issuer") != self.config.issuer:
                raise AuthenticationError(
                    f"OIDC discovery names issuer {discovery.get('issuer')!r}, "
                    f"expected {self.config.issuer!r}"
                )
            self._jwks_uri = str(discovery.get("jwks_uri", ""))
            if not self._jwks_uri.startswith("https://"):
                raise AuthenticationError("OIDC discovery has no https jwks_uri")
        document = await self._get_json(self._jwks_uri)
        keys: dict[str, Any] = {}
        for entry in document.get("keys", []):
            if isinstance(entry, dict) and entry.get("use", "sig") == "sig":
                try:
                    keys[str(entry.get("kid", ""))] = jwt.PyJWK(entry).key
                except jwt.PyJWTError:
                    continue  # a key of a kind we do not verify with
        self._keys = keys
        self._fetched = time.monotonic()
        self.fetches += 1

    async def _key(self, kid: str) -> Any:
        async with self._lock:
            age = time.monotonic() - self._fetched
            stale = not self._fetched or age > self.config.jwks_ttl
            rotated = kid not in self._keys and age > self.config.min_refresh
            if stale or rotated:
                await self._refresh()
        key = self._keys.get(kid)
        if key is None:
            raise AuthenticationError(f"token signed with unknown key {kid!r}")
        return key

    async def authenticate(self, token: str) -> Caller:
        try:
            header = jwt.get_unverified_header(token)
        except jwt.PyJWTError as exc:
            raise AuthenticationError(f"malformed token: {exc}") from None
        if header.get("alg") not in ALGORITHMS:
            raise AuthenticationError(f"token algorithm {header.get('alg')!r} is not accepted")
        key = await self._key(str(header.get("kid", "")))
        try:
            claims = jwt.decode(
                token,
                key,
                algorithms=ALGORITHMS,
                audience=self.config.audience,
                issuer=self.config.issuer,
                leeway=self.config.leeway,
                options={"require": ["exp", "iss", "aud"]},
            )
        except jwt.PyJWTError as exc:
            raise AuthenticationError(f"OIDC token refused: {exc}") from None
        return self._caller(claims)

    def _caller(self, claims: dict[str, Any]) -> Caller:
        name = claims.get(self.config.username_claim)
        if not isinstance(name, str) or not name:
            raise AuthenticationError(f"OIDC token has no {self.config.username_claim!r} claim")
        groups = claims.get(self.config.groups_claim) or []
        if not isinstance(groups, list) or not all(isinstance(g, str) for g in groups):
            raise AuthenticationError(f"OIDC claim {self.config.groups_claim!r} is not a list")
        prefix = self.config.groups_prefix
        return Caller(
            self.config.username_prefix + name,
            (*(prefix + g for g in groups), "system:authenticated"),
        )


class ChainAuthenticator:
    """OIDC for tokens of a configured issuer, ``fallback`` (TokenReview) for the rest;
    callers are remembered for ``cache_ttl`` seconds, never past their token's expiry."""

    def __init__(
        self,
        oidc: Sequence[OIDCAuthenticator],
        fallback: Authenticator,
        *,
        cache_ttl: float = 10.0,
    ) -> None:
        self._by_issuer = {a.config.issuer: a for a in oidc}
        self._fallback = fallback
        self._cache = AuthCache(cache_ttl)

    async def authenticate(self, token: str) -> Caller:
        cached = self._cache.get(token)
        if cached is not None:
            return cached
        caller = await self._authenticate(token)
        self._cache.put(token, caller)
        return caller

    async def _authenticate(self, token: str) -> Caller:
        try:
            issuer = jwt.decode(token, options={"verify_signature": False}).get("iss")
        except jwt.PyJWTError:
            issuer = None
        chosen = self._by_issuer.get(issuer) if isinstance(issuer, str) else None
        caller: Caller = await (chosen or self._fallback).authenticate(token)
        return caller
