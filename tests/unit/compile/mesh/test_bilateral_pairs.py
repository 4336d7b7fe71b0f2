"""The 10-service scenario: every ordered pair decided on the generated Cilium and Istio objects."""

from __future__ import annotations

import itertools

import pytest

from tests.manifests import assert_valid
from tests.unit.compile.mesh import scenario

NS = "shop"
FRONTENDS = ("frontend-web", "frontend-mobile", "frontend-admin")
APIS = ("api-gateway", "api-users", "api-orders")
# name: (declared outbound, declared inbound); "*" = any caller
DECLARED: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    "frontend-web": (
        ("api-gateway", "api-users", "public-api", "api-orders", "db-users"),
        (),
    ),
    "frontend-mobile": (("api-gateway", "api-orders"), ()),
    "frontend-admin": ((*APIS, "public-api"), ()),
    "api-gateway": (("db-users", "db-orders", "cache"), FRONTENDS),
    "api-users": (("db-users", "cache"), ("frontend-web", "frontend-admin")),
    "api-orders": (("db-orders", "cache"), ("frontend-mobile", "frontend-admin")),
    "db-users": ((), ("api-gateway", "api-users")),
    "db-orders": ((), ("api-gateway", "api-orders")),
    "cache": ((), APIS),
    "public-api": ((), ("*",)),
}


def expected(caller: str, callee: str) -> bool:
    """The rule, restated: caller says outbound AND callee says inbound (or any caller)."""
    out, _ = DECLARED[caller]
    _, inbound = DECLARED[callee]
    return callee in out and (caller in inbound or "*" in inbound)


def _services() -> list[object]:
    return [
        scenario.service(
            f"{NS}/{name}",
            out=out,
            inbound=[c for c in inbound if c != "*"],
            any_caller="*" in inbound,
        )
        for name, (out, inbound) in DECLARED.items()
    ]


MANIFESTS, CLUSTER = scenario.compile_world(_services())  # type: ignore[arg-type]

PAIRS = [
    pytest.param(a, b, expected(a, b), id=f"{a} -> {b} {'allowed' if expected(a, b) else 'denied'}")
    for a, b in itertools.permutations(DECLARED, 2)
]


def test_scenario_has_ninety_pairs_and_both_outcomes() -> None:
    assert len(PAIRS) == 90
    outcomes = [p.values[2] for p in PAIRS]
    # web 3, mobile 2, admin 4, gateway 3, users 2, orders 2
    assert outcomes.count(True) == 16


@pytest.mark.parametrize(("caller", "callee", "allowed"), PAIRS)
def test_pair_decided_by_generated_objects(caller: str, callee: str, allowed: bool) -> None:
    src, dst = scenario.pod(f"{NS}/{caller}"), scenario.pod(f"{NS}/{callee}")
    assert CLUSTER.allows(src, dst, scenario.TARGET_PORT) is allowed


@pytest.mark.parametrize(("caller", "callee", "allowed"), PAIRS)
def test_each_layer_enforces_its_own_half(caller: str, callee: str, allowed: bool) -> None:
    src, dst = scenario.pod(f"{NS}/{caller}"), scenario.pod(f"{NS}/{callee}")
    out, _ = DECLARED[caller]
    _, inbound = DECLARED[callee]
    hbone = 15008
    assert CLUSTER.cilium_allows(src, dst, hbone, "TCP", "egress") is (callee in out)
    callee_says = caller in inbound or "*" in inbound
    assert CLUSTER.cilium_allows(src, dst, hbone, "TCP", "ingress") is callee_says
    assert CLUSTER.istio_allows(src, dst, scenario.TARGET_PORT) is callee_says


def test_a_port_the_callee_does_not_serve_is_denied_by_istio() -> None:
    src, dst = scenario.pod(f"{NS}/frontend-web"), scenario.pod(f"{NS}/api-gateway")
    assert CLUSTER.istio_allows(src, dst, scenario.TARGET_PORT)
    assert not CLUSTER.istio_allows(src, dst, 9999)


def test_every_generated_object_is_valid() -> None:
    assert_valid(MANIFESTS)


def test_compiling_twice_gives_identical_objects() -> None:
    again, _ = scenario.compile_world(_services())  # type: ignore[arg-type]
    assert again == MANIFESTS
