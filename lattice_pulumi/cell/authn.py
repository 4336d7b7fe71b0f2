"""Who is calling the API proxy: bearer tokens checked with TokenReview.

:class:`TokenReviewAuthenticator` asks the parent cluster's API server
(``authentication.k8s.io/v1`` TokenReview, through the one Kubernetes client) whether a
bearer token is valid *for the proxy's audiences*: a ServiceAccount token requested for
another audience (the API server's own, say) is refused, so a token meant for one service
cannot be replayed against the proxy. Successful reviews are cached for ``cache_ttl``
seconds, never past the token's own expiry (:class:`lattice_pulumi.cell.authcache.AuthCache`:
by the token's SHA-256, the token itself is never kept or logged); failures are not
cached. Every failure is an :class:`AuthenticationError` whose message is safe to show the
caller (it becomes a 401 Status). The cell's account needs ``create`` on ``tokenreviews``
(the built-in ClusterRole ``system:auth-delegator``).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

from lightkube import AsyncClient
from lightkube.models.authentication_v1 import TokenReviewSpec
from lightkube.resources.authentication_v1 import TokenReview

from lattice_pulumi import kube
from lattice_pulumi.cell.authcache import AuthCache
from lattice_pulumi.errors import LatticeError

__all__ = [
    "AuthenticationError",
    "Authenticator",
    "Caller",
    "TokenReviewAuthenticator",
    "bearer_token",
]


class AuthenticationError(LatticeError):
    """The caller could not be authenticated; the message says why (shown in the 401)."""


@dataclass(frozen=True)
class Caller:
    """An authenticated user: name and groups as the API server reported them."""

    user: str
    groups: tuple[str, ...] = ()


class Authenticator(Protocol):
    """Turns a bearer token into a caller or raises :class:`AuthenticationError`."""

    async def authenticate(self, token: str) -> Caller: ...


def bearer_token(authorization: str | None) -> str:
    """The token of an ``Authorization: Bearer <token>`` header."""
    if not authorization:
        raise AuthenticationError("no bearer token: send 'Authorization: Bearer <token>'")
    scheme, _, token = authorization.strip().partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise AuthenticationError("the Authorization header is not 'Bearer <token>'")
    return token.strip()


class TokenReviewAuthenticator:
    """Bearer tokens reviewed by an API server for ``audiences``."""

    def __init__(
        self, client: AsyncClient, audiences: Sequence[str], *, cache_ttl: float = 10.0
    ) -> None:
        if not audiences:
            raise ValueError("the proxy needs at least one token audience")
        self.audiences = tuple(audiences)
        self._client = client
        self._cache = AuthCache(cache_ttl)

    async def authenticate(self, token: str) -> Caller:
        cached = self._cache.get(token)
        if cached is not None:
            return cached
        review = TokenReview(spec=TokenReviewSpec(token=token, audiences=list(self.audiences)))
        try:
            with kube.api_errors("review the bearer token"):
                answer = await self._client.create(review)
        except kube.KubeError as exc:
            raise AuthenticationError(f"the token could not be reviewed: {exc}") from None
        status = answer.status
        if status is None or not status.authenticated or status.user is None:
            why = (status.error if status is not None else "") or "token not accepted"
            raise AuthenticationError(
                f"invalid bearer token for audiences {list(self.audiences)}: {why}"
            )
        caller = Caller(status.user.username or "", tuple(status.user.groups or ()))
        if not caller.user:
            raise AuthenticationError("the token review named no user")
        self._cache.put(token, caller)
        return caller
