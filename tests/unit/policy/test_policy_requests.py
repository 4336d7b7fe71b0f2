"""Messages, permit suggestions and batches of requests."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

import lattice_pulumi.policy as policy
from lattice_pulumi.errors import PolicyDenied
from lattice_pulumi.policy import CedarAuthorizer, PolicySource, requests


def test_denial_names_the_permit_to_add() -> None:
    authorizer = CedarAuthorizer()
    request = requests.security_override("media", "jellyfin", "runAsRoot")
    with pytest.raises(PolicyDenied) as caught:
        authorizer.require(request)
    assert str(caught.value) == (
        "service media/jellyfin may not use security override 'runAsRoot': no permit. Add: "
        'permit(principal == Lattice::Service::"media/jellyfin", '
        'action == Lattice::Action::"OverrideSecurity", '
        'resource == Lattice::SecurityOverride::"runAsRoot");'
    )


def test_suggested_permit_allows_exactly_that_request() -> None:
    request = requests.secret_access("media", "app", "vault", 'media/"odd"')
    permit = CedarAuthorizer.suggest_permit(request)
    authorizer = CedarAuthorizer([PolicySource("fix", "media", permit)])
    assert authorizer.report.problems == ()
    assert authorizer.require(request).allowed
    assert not authorizer.can_access_secret("media", "app", "vault", "media/other").allowed


def test_a_forbidden_request_suggests_no_permit() -> None:
    authorizer = CedarAuthorizer([PolicySource("g", "s", "forbid(principal, action, resource);")])
    with pytest.raises(PolicyDenied, match=r"forbidden by s/g\[0\]$"):
        authorizer.require(requests.security_override("a", "b", "privileged"))


def test_batch_keeps_order_and_separates_conflicting_entities() -> None:
    text = 'permit(principal in Lattice::Group::"ops", action == Lattice::Action::"get", resource);'
    authorizer = CedarAuthorizer([PolicySource("p", "s", text)], cache_size=0)
    labels = {"environment": "production"}
    batch = [
        requests.cluster_access("alice", ["ops"], "c", labels, "get"),
        requests.cluster_access("alice", ["dev"], "c", labels, "get"),  # same uid, other groups
        requests.secret_access("a", "b", "vault", "x"),
        requests.cluster_access("alice", ["ops"], "c", labels, "get", namespace="n"),
    ]
    assert [d.allowed for d in authorizer.authorize_batch(batch)] == [True, False, False, True]


def test_unknown_verb_is_refused() -> None:
    with pytest.raises(ValueError, match="unknown cluster verb 'fly'"):
        requests.cluster_access("a", [], "c", {}, "fly")


def test_datetime_is_sent_in_utc_with_milliseconds() -> None:
    moment = datetime(2025, 1, 2, 3, 4, 5, 678_900, tzinfo=timezone(timedelta(hours=2)))
    assert requests.format_datetime(moment) == "2025-01-02T01:04:05.678Z"


def test_exported_names_are_the_sorted_public_names() -> None:
    public = {
        name
        for name, value in vars(policy).items()
        if not name.startswith("_")
        and not getattr(value, "__name__", "").startswith("lattice_pulumi.policy.")
    }
    assert policy.__all__ == sorted(policy.__all__)
    assert set(policy.__all__) == public
