"""Authenticated callers are remembered for the TTL, never past the token's expiry."""

from __future__ import annotations

import base64
import json

import pytest

from lattice_pulumi.cell.authcache import AuthCache, token_expiry
from lattice_pulumi.cell.authn import Caller

BOB = Caller("system:serviceaccount:people:bob", ("system:serviceaccounts",))


def jwt_with(claims: dict[str, object]) -> str:
    def part(data: dict[str, object]) -> str:
        return base64.urlsafe_b64encode(json.dumps(data).encode()).rstrip(b"=").decode()

    return f"{part({'alg': 'RS256'})}.{part(claims)}.signature"


class Clock:
    def __init__(self) -> None:
        self.now = 1_000.0

    def __call__(self) -> float:
        return self.now


@pytest.mark.parametrize(
    ("token", "expected"),
    [
        pytest.param(jwt_with({"exp": 1234}), 1234.0, id="a JWT's exp"),
        pytest.param(jwt_with({"sub": "x"}), None, id="a JWT without exp"),
        pytest.param(jwt_with({"exp": True}), None, id="an exp that is not a number"),
        pytest.param("opaque-static-token", None, id="not a JWT"),
        pytest.param("a.!!!.c", None, id="a payload that is not base64 JSON"),
    ],
)
def test_token_expiry_reads_the_unverified_exp(token: str, expected: float | None) -> None:
    assert token_expiry(token) == expected


def test_a_caller_is_remembered_for_the_ttl() -> None:
    clock = Clock()
    cache = AuthCache(10, clock=clock)
    cache.put("opaque", BOB)
    clock.now += 9.9
    assert cache.get("opaque") == BOB
    clock.now += 0.2
    assert cache.get("opaque") is None


def test_never_past_the_tokens_expiry() -> None:
    clock = Clock()
    cache = AuthCache(3600, clock=clock)
    token = jwt_with({"exp": clock.now + 2})
    cache.put(token, BOB)
    clock.now += 1.9
    assert cache.get(token) == BOB
    clock.now += 0.2
    assert cache.get(token) is None


def test_an_expired_token_is_not_remembered_at_all() -> None:
    clock = Clock()
    cache = AuthCache(3600, clock=clock)
    token = jwt_with({"exp": clock.now - 1})
    cache.put(token, BOB)
    assert cache.get(token) is None


def test_the_cache_forgets_everything_at_its_limit() -> None:
    cache = AuthCache(60, limit=2, clock=Clock())
    for name in ("a", "b", "c"):
        cache.put(name, BOB)
    assert [cache.get(name) for name in ("a", "b", "c")] == [None, None, BOB]
