"""Acceptance table: one authorizer, four paths, default deny, forbid wins, reasons."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime

import pytest

from lattice_pulumi.policy import (
    CedarAuthorizer,
    ClusterContext,
    Decision,
    PolicySource,
    effective_policies,
)

Ask = Callable[[CedarAuthorizer], Decision]

SECRET = 'action == Lattice::Action::"AccessSecret"'
OVERRIDE = 'action == Lattice::Action::"OverrideSecurity"'
VOLUME = 'action == Lattice::Action::"AccessVolume"'
READ = 'action in [Lattice::Action::"get", Lattice::Action::"list", Lattice::Action::"watch"]'


def src(name: str, text: str, **options: object) -> PolicySource:
    """A source in namespace ``t`` (tests name policies ``t/<name>[i]``)."""
    return PolicySource(name, "t", text, **options)  # type: ignore[arg-type]


def secret(ns: str, name: str, path: str, provider: str = "vault") -> Ask:
    return lambda a: a.can_access_secret(ns, name, provider, path)


def override(ns: str, name: str, what: str) -> Ask:
    return lambda a: a.can_override_security(ns, name, what)


def volume(ns: str, name: str, owner: str, consumers: tuple[str, ...] = ()) -> Ask:
    return lambda a: a.can_access_volume(ns, name, "media", "library", owner, consumers)


def cluster(
    user: str,
    groups: tuple[str, ...],
    verb: str,
    env: str = "production",
    namespace: str = "",
    context: ClusterContext | None = None,
) -> Ask:
    labels = {"environment": env, "region": "eu", "team": "video"}
    return lambda a: a.can_access_cluster(
        user, groups, "prod-eu", labels, verb, namespace=namespace, kind="Pod", context=context
    )


BROKEN = src("broken", 'permit(principal, action, resource) when { resource.nope == "x" };')
MEDIA_SECRETS = src(
    "media-secrets",
    f'permit(principal, {SECRET}, resource) when {{ principal.namespace == "media" '
    f'&& resource.path like "media/*" }};',
)


@dataclass(frozen=True)
class Case:
    sources: tuple[PolicySource, ...]
    ask: Ask
    allowed: bool
    reason: str


CASES = [
    # ---- empty set ----------------------------------------------------------------------
    pytest.param(
        Case((), secret("media", "app", "media/db"), False, "no permit"),
        id="empty set denies secrets",
    ),
    pytest.param(
        Case((), override("media", "app", "privileged"), False, "no permit"),
        id="empty set denies overrides",
    ),
    pytest.param(
        Case((), cluster("alice", ("ops",), "get"), False, "no permit"),
        id="empty set denies cluster access",
    ),
    pytest.param(
        Case((), volume("media", "app", "media/store", ("media/app",)), False, "no permit"),
        id="empty set denies volumes even with consent",
    ),
    pytest.param(
        Case((), volume("media", "store", "media/store"), True, "permitted by lattice:builtin[0]"),
        id="owner uses its own volume",
    ),
    # ---- secrets ------------------------------------------------------------------------
    pytest.param(
        Case(
            (MEDIA_SECRETS,),
            secret("media", "app", "media/db"),
            True,
            "permitted by t/media-secrets[0]",
        ),
        id="namespace-wide like permit",
    ),
    pytest.param(
        Case((MEDIA_SECRETS,), secret("media", "app", "other/db"), False, "no permit"),
        id="like pattern does not match other paths",
    ),
    pytest.param(
        Case((MEDIA_SECRETS,), secret("games", "app", "media/db"), False, "no permit"),
        id="other namespace gets no secret",
    ),
    pytest.param(
        Case(
            (
                MEDIA_SECRETS,
                src(
                    "root",
                    f'@reason("no root") forbid(principal, {SECRET}, '
                    'resource) when { resource.path like "*/root*" };',
                ),
            ),
            secret("media", "app", "media/root"),
            False,
            "forbidden by t/root[0] (no root)",
        ),
        id="secret forbid overrides permit",
    ),
    pytest.param(
        Case(
            (BROKEN, MEDIA_SECRETS),
            secret("media", "app", "media/db"),
            True,
            "permitted by t/media-secrets[0]",
        ),
        id="invalid policy isolated",
    ),
    pytest.param(
        Case(
            (src("off", MEDIA_SECRETS.text, enabled=False),),
            secret("media", "app", "media/db"),
            False,
            "no permit",
        ),
        id="disabled policy grants nothing",
    ),
    # ---- security overrides -------------------------------------------------------------
    pytest.param(
        Case(
            (
                src(
                    "caps",
                    f'permit(principal == Lattice::Service::"net/vpn", {OVERRIDE}, '
                    'resource) when { resource.category == "capability" '
                    '&& resource.value like "NET_*" };',
                ),
            ),
            override("net", "vpn", "capability:NET_ADMIN"),
            True,
            "permitted by t/caps[0]",
        ),
        id="override permit by category and value pattern",
    ),
    pytest.param(
        Case(
            (
                src(
                    "sysctl",
                    f"permit(principal, {OVERRIDE}, resource) when "
                    '{ principal.namespace == "net" && resource.value like "net.ipv4.*" };',
                ),
            ),
            override("net", "router", "sysctl:net.ipv6.x"),
            False,
            "no permit",
        ),
        id="sysctl outside the pattern denied",
    ),
    pytest.param(
        Case(
            (
                src("all", f"permit(principal, {OVERRIDE}, resource);"),
                src(
                    "guard",
                    f"forbid(principal, {OVERRIDE}, resource == "
                    'Lattice::SecurityOverride::"privileged");',
                ),
            ),
            override("net", "vpn", "privileged"),
            False,
            "forbidden by t/guard[0]",
        ),
        id="override forbid overrides permit",
    ),
    pytest.param(
        Case(
            (BROKEN, src("all", f"permit(principal, {OVERRIDE}, resource);")),
            override("a", "b", "hostNetwork"),
            True,
            "permitted by t/all[0]",
        ),
        id="override survives a broken neighbour",
    ),
    # ---- shared volumes -----------------------------------------------------------------
    pytest.param(
        Case(
            (
                src(
                    "vol",
                    f"permit(principal, {VOLUME}, resource) when "
                    "{ principal.namespace == resource.namespace };",
                ),
            ),
            volume("media", "app", "media/store", ("media/app",)),
            True,
            "permitted by t/vol[0]",
        ),
        id="volume permit with owner consent",
    ),
    pytest.param(
        Case(
            (src("vol", f"permit(principal, {VOLUME}, resource);"),),
            volume("media", "app", "media/store", ("media/other",)),
            False,
            "forbidden by lattice:builtin[1] (the volume owner has not listed this service "
            "in allowedConsumers)",
        ),
        id="volume permit without owner consent denied",
    ),
    pytest.param(
        Case(
            (
                src("vol", f"permit(principal, {VOLUME}, resource);"),
                src(
                    "no",
                    f"forbid(principal, {VOLUME}, resource) when "
                    '{ principal.namespace == "media" };',
                ),
            ),
            volume("media", "app", "media/store", ("media/app",)),
            False,
            "forbidden by t/no[0]",
        ),
        id="volume forbid overrides permit and consent",
    ),
    # ---- cluster access -----------------------------------------------------------------
    pytest.param(
        Case(
            (
                src(
                    "ro",
                    f'permit(principal in Lattice::Group::"dev", {READ}, resource) when '
                    '{ resource.environment == "production" };',
                ),
            ),
            cluster("bob", ("dev", "x"), "list"),
            True,
            "permitted by t/ro[0]",
        ),
        id="group member reads production",
    ),
    pytest.param(
        Case(
            (src("ro", f'permit(principal in Lattice::Group::"dev", {READ}, resource);'),),
            cluster("bob", ("dev",), "delete"),
            False,
            "no permit",
        ),
        id="read-only group cannot delete",
    ),
    pytest.param(
        Case(
            (src("ro", f'permit(principal in Lattice::Group::"dev", {READ}, resource);'),),
            cluster("eve", ("ops",), "get"),
            False,
            "no permit",
        ),
        id="non-member denied",
    ),
    pytest.param(
        Case(
            (
                src(
                    "ns",
                    'permit(principal, action in Lattice::Action::"AccessCluster", '
                    'resource in Lattice::Cluster::"prod-eu") when '
                    '{ resource is Lattice::Namespace && resource.name like "team-*" '
                    '&& resource.hasTag("team") && resource.getTag("team") == "video" };',
                ),
            ),
            cluster("bob", (), "exec", namespace="team-a"),
            True,
            "permitted by t/ns[0]",
        ),
        id="namespace inside cluster with like and tags",
    ),
    pytest.param(
        Case(
            (
                src(
                    "all",
                    'permit(principal in Lattice::Group::"ops", action in '
                    'Lattice::Action::"AccessCluster", resource);',
                ),
                src(
                    "noexec",
                    'forbid(principal, action == Lattice::Action::"exec", resource) '
                    'when { resource.environment == "production" };',
                ),
            ),
            cluster("alice", ("ops",), "exec"),
            False,
            "forbidden by t/noexec[0]",
        ),
        id="cluster forbid overrides permit",
    ),
    pytest.param(
        Case(
            (
                src(
                    "sa",
                    "permit(principal is Lattice::ServiceAccount, action == "
                    'Lattice::Action::"get", resource) when { principal.namespace == "ci" };',
                ),
            ),
            cluster("system:serviceaccount:ci:deployer", (), "get"),
            True,
            "permitted by t/sa[0]",
        ),
        id="service account principal",
    ),
    pytest.param(
        Case(
            (
                src(
                    "office",
                    'permit(principal, action in Lattice::Action::"AccessCluster", '
                    "resource) when { context has sourceIp && "
                    'context.sourceIp.isInRange(ip("10.0.0.0/8")) && context has time && '
                    'context.time.toTime() < duration("18h") };',
                ),
            ),
            cluster(
                "a",
                (),
                "get",
                context=ClusterContext(datetime(2025, 5, 1, 9, 30, tzinfo=UTC), "10.1.2.3"),
            ),
            True,
            "permitted by t/office[0]",
        ),
        id="request context time and source ip",
    ),
    pytest.param(
        Case(
            (
                src(
                    "office",
                    'permit(principal, action in Lattice::Action::"AccessCluster", '
                    "resource) when { context has sourceIp && "
                    'context.sourceIp.isInRange(ip("10.0.0.0/8")) };',
                ),
            ),
            cluster("a", (), "get", context=ClusterContext(source_ip="192.168.1.1")),
            False,
            "no permit",
        ),
        id="request from outside the office denied",
    ),
    # ---- inheritance ----------------------------------------------------------------------
    pytest.param(
        Case(
            tuple(
                effective_policies(
                    [src("parent", f"permit(principal, {OVERRIDE}, resource);", propagate=True)], []
                )
            ),
            override("a", "b", "runAsRoot"),
            True,
            "permitted by t/parent[0] (inherited)",
        ),
        id="inherited permit applies below",
    ),
    pytest.param(
        Case(
            tuple(
                effective_policies([src("parent", f"permit(principal, {OVERRIDE}, resource);")], [])
            ),
            override("a", "b", "runAsRoot"),
            False,
            "no permit",
        ),
        id="non-propagating parent policy stays above",
    ),
    pytest.param(
        Case(
            tuple(
                effective_policies(
                    [src("guard", f"forbid(principal, {OVERRIDE}, resource);", propagate=True)],
                    [src("local", f"permit(principal, {OVERRIDE}, resource);")],
                )
            ),
            override("a", "b", "runAsRoot"),
            False,
            "forbidden by t/guard[0] (inherited)",
        ),
        id="inherited forbid beats local permit",
    ),
    pytest.param(
        Case(
            tuple(
                effective_policies(
                    [
                        src(
                            "same",
                            f"forbid(principal, {OVERRIDE}, resource);",
                            propagate=True,
                            enabled=False,
                        )
                    ],
                    [src("same", f"permit(principal, {OVERRIDE}, resource);")],
                )
            ),
            override("a", "b", "runAsRoot"),
            True,
            "permitted by t/same[0]",
        ),
        id="inherited and local with one name are distinct; disabled inherited is off",
    ),
]


@pytest.mark.parametrize("case", CASES)
def test_decision(case: Case) -> None:
    decision = case.ask(CedarAuthorizer(case.sources))
    assert (decision.allowed, decision.reason) == (case.allowed, case.reason)
    assert bool(decision.policies) == case.reason.startswith(("permitted", "forbidden"))
    assert all(policy in decision.reason for policy in decision.policies)


@pytest.mark.parametrize("case", CASES)
def test_cached_decision_equals_uncached(case: Case) -> None:
    cached = CedarAuthorizer(case.sources)
    first = case.ask(cached)
    assert case.ask(cached) == first == case.ask(CedarAuthorizer(case.sources, cache_size=0))
