"""Bootstrap tokens: one-time, expiring, stored as hashes, burnt only on success."""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime, timedelta

import pytest

from lattice_pulumi import pki


class Clock:
    def __init__(self) -> None:
        self.now = datetime(2030, 1, 1, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.now


def test_redeeming_a_fresh_token_yields_its_cluster_and_burns_it() -> None:
    tokens = pki.BootstrapTokens()
    issued = tokens.issue("alpha")
    with tokens.redeeming(issued.token) as cluster:
        assert cluster == "alpha"
    with (
        pytest.raises(pki.TokenReplayedError, match="already used"),
        tokens.redeeming(issued.token),
    ):
        pass


def test_a_failed_enrolment_leaves_the_token_usable() -> None:
    tokens = pki.BootstrapTokens()
    issued = tokens.issue("alpha")
    with pytest.raises(RuntimeError), tokens.redeeming(issued.token):
        raise RuntimeError("signing failed")
    with tokens.redeeming(issued.token) as cluster:
        assert cluster == "alpha"


def test_expired_token_is_invalid() -> None:
    clock = Clock()
    tokens = pki.BootstrapTokens(clock=clock)
    issued = tokens.issue("alpha", ttl=timedelta(minutes=5))
    clock.now += timedelta(minutes=5)
    with pytest.raises(pki.TokenInvalidError, match="has expired"), tokens.redeeming(issued.token):
        pass


@pytest.mark.parametrize(
    "mangle",
    [
        pytest.param(lambda t: t[:-1] + ("A" if t[-1] != "A" else "B"), id="wrong secret"),
        pytest.param(lambda t: "lt1.0000000000000000.secret", id="unknown id"),
        pytest.param(lambda t: "garbage", id="malformed"),
        pytest.param(lambda t: "", id="empty"),
    ],
)
def test_tokens_that_do_not_match_are_invalid(mangle: object) -> None:
    tokens = pki.BootstrapTokens()
    issued = tokens.issue("alpha")
    bad = mangle(issued.token)  # type: ignore[operator]
    with pytest.raises(pki.TokenInvalidError), tokens.redeeming(bad):
        pass


def test_only_the_hash_of_the_secret_is_stored() -> None:
    tokens = pki.BootstrapTokens()
    issued = tokens.issue("alpha")
    secret = issued.token.split(".")[2]
    stored = vars(tokens)["_records"][issued.token_id]
    assert stored.secret_hash == hashlib.sha256(secret.encode()).digest()
    assert secret not in repr(vars(tokens))
    assert secret not in repr(issued)


def test_error_messages_never_contain_the_secret() -> None:
    tokens = pki.BootstrapTokens()
    issued = tokens.issue("alpha")
    with tokens.redeeming(issued.token):
        pass
    with pytest.raises(pki.TokenReplayedError) as caught, tokens.redeeming(issued.token):
        pass
    assert issued.token.split(".")[2] not in str(caught.value)
    assert issued.token_id in str(caught.value)


def test_prune_forgets_expired_records() -> None:
    clock = Clock()
    tokens = pki.BootstrapTokens(clock=clock)
    tokens.issue("alpha", ttl=timedelta(minutes=1))
    tokens.issue("beta", ttl=timedelta(hours=1))
    clock.now += timedelta(minutes=2)
    assert tokens.prune() == 1


def test_invalid_cluster_name_is_refused_at_issue() -> None:
    with pytest.raises(pki.CertificateError, match="invalid cluster name 'Not_A_Name'"):
        pki.BootstrapTokens().issue("Not_A_Name")
