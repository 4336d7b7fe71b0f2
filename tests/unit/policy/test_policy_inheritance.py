"""A child's effective policy set: inherited first, follows the parent, marked inherited."""

from __future__ import annotations

import pytest

from lattice_pulumi.policy import PolicySource, effective_policies, order_sources

P = "permit(principal, action, resource);"


def names(sources: list[PolicySource]) -> list[tuple[str, bool]]:
    return [(s.label, s.inherited) for s in sources]


def test_only_propagating_parent_policies_cross_and_come_first() -> None:
    parent = [
        PolicySource("keep", "sys", P, propagate=True),
        PolicySource("stay", "sys", P),
    ]
    local = [PolicySource("own", "app", P, priority=99)]
    assert names(effective_policies(parent, local)) == [("sys/keep", True), ("app/own", False)]


def test_removing_a_policy_at_the_parent_removes_it_below() -> None:
    keep = PolicySource("keep", "sys", P, propagate=True)
    gone = PolicySource("gone", "sys", P, propagate=True)
    local = [PolicySource("own", "app", P)]
    before = effective_policies([keep, gone], local)
    after = effective_policies([keep], local)
    assert ("sys/gone", True) in names(before)
    assert names(after) == [("sys/keep", True), ("app/own", False)]


def test_propagating_policies_travel_to_grandchildren() -> None:
    root = [PolicySource("fleet", "sys", P, propagate=True)]
    child = effective_policies(root, [PolicySource("mid", "sys", P)])
    grandchild = effective_policies(child, [])
    assert names(grandchild) == [("sys/fleet", True)]


@pytest.mark.parametrize(
    ("sources", "expected"),
    [
        pytest.param(
            [PolicySource("b", "n", P), PolicySource("a", "n", P)],
            ["n/a", "n/b"],
            id="same priority by name",
        ),
        pytest.param(
            [PolicySource("a", "n", P), PolicySource("b", "n", P, priority=2)],
            ["n/b", "n/a"],
            id="higher priority first",
        ),
        pytest.param(
            [PolicySource("a", "n", P, priority=9), PolicySource("z", "n", P, inherited=True)],
            ["n/z", "n/a"],
            id="inherited before any local",
        ),
    ],
)
def test_order(sources: list[PolicySource], expected: list[str]) -> None:
    assert [s.label for s in order_sources(sources)] == expected
