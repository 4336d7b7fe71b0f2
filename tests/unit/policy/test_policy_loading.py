"""Loading sources: schema validation with positions, isolation of bad sources, reload."""

from __future__ import annotations

from importlib import resources

import cedarpy
import pytest

from lattice_pulumi.policy import CedarAuthorizer, PolicyError, PolicyProblem, PolicySource
from lattice_pulumi.policy import schema as cedar_schema
from lattice_pulumi.policy.statements import Statement, split_statements

GOOD = 'permit(principal, action == Lattice::Action::"AccessSecret", resource);'


def problems_of(text: str) -> list[tuple[int | None, int | None, str]]:
    report = CedarAuthorizer([PolicySource("p", "ns", text, file="p.yaml")]).report
    assert report.loaded == ()
    return [(p.line, p.column, p.message) for p in report.problems]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        pytest.param(
            GOOD + "\n\n  permit(principal is Lattice::Pod, action, resource);",
            [
                (3, 3, "unrecognized entity type `Lattice::Pod`"),
                (3, 3, "unable to find an applicable action given the policy scope constraints"),
            ],
            id="unknown entity type at its statement",
        ),
        pytest.param(
            GOOD + '\npermit(principal, action == Lattice::Action::"AccessSecret", resource)\n'
            '  when { resource.owner == "x" };',
            [(2, 1, "attribute `owner` on entity type `Lattice::SecretPath` not found")],
            id="unknown attribute",
        ),
        pytest.param(
            'permit(principal, action == Lattice::Action::"fly", resource);',
            [
                (1, 1, 'unrecognized action `Lattice::Action::"fly"`'),
                (1, 1, "unable to find an applicable action given the policy scope constraints"),
            ],
            id="unknown action",
        ),
        pytest.param(
            GOOD
            + "\n// a comment; with a semicolon\n"
            + "  permit(principal, action, resource) when { 1 + };",
            [(3, 3, "parse error: unexpected token `}`")],
            id="parse error located at the failing statement",
        ),
        pytest.param(
            'permit(principal == ?principal, action == Lattice::Action::"AccessSecret", resource);',
            [(None, None, "policy templates (?principal, ?resource) are not supported")],
            id="templates refused",
        ),
    ],
)
def test_invalid_source_is_reported_with_position(
    text: str, expected: list[tuple[int | None, int | None, str]]
) -> None:
    assert problems_of(text) == expected


def test_one_bad_source_never_disables_the_others() -> None:
    sources = [
        PolicySource("a", "x", GOOD),
        PolicySource("b", "x", "permit(principal, action, resource) when { nope };"),
        PolicySource("c", "x", GOOD, enabled=False),
        PolicySource("a", "x", GOOD),
    ]
    report = CedarAuthorizer(sources).report
    assert report.loaded == ("x/a",)
    assert report.disabled == ("x/c",)
    assert [str(p) for p in report.problems] == [
        "x/a: duplicate policy source name; skipped",
        "x/b:1:1: parse error: invalid variable: nope",
    ]


def test_policy_ids_follow_source_order_priority_first() -> None:
    authorizer = CedarAuthorizer(
        [
            PolicySource("low", "n", GOOD + GOOD),
            PolicySource("high", "n", GOOD, priority=5),
            PolicySource("up", "p", GOOD, propagate=True, inherited=True),
        ]
    )
    assert list(authorizer.policies) == [
        "lattice:builtin[0]",
        "lattice:builtin[1]",
        "p/up[0] (inherited)",
        "n/high[0]",
        "n/low[0]",
        "n/low[1]",
    ]
    info = authorizer.policies["n/low[1]"]
    assert (info.source, info.index, info.effect, info.line, info.column) == (
        "n/low",
        1,
        "permit",
        1,
        len(GOOD) + 1,
    )


def test_reload_swaps_the_whole_set() -> None:
    authorizer = CedarAuthorizer([PolicySource("a", "x", GOOD)])
    assert authorizer.can_access_secret("m", "s", "vault", "p").allowed
    report = authorizer.reload([PolicySource("b", "x", "forbid(principal, action, resource);")])
    assert report.loaded == ("x/b",)
    decision = authorizer.can_access_secret("m", "s", "vault", "p")
    assert (decision.allowed, decision.reason) == (False, "forbidden by x/b[0]")


def test_schema_ships_with_the_package_and_parses() -> None:
    text = (resources.files("lattice_pulumi.policy") / "lattice.cedarschema").read_text()
    assert text == cedar_schema.load_schema_text()
    assert "namespace Lattice" in str(cedarpy.Schema.from_str(text))


def test_policy_error_lists_every_problem() -> None:
    error = PolicyError.of(
        [PolicyProblem("ns/a", "bad", "a.yaml", 3, 1), PolicyProblem("b", "worse")]
    )
    assert str(error) == "2 policy problems found\na.yaml ns/a:3:1: bad\nb: worse"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        pytest.param("", [], id="empty"),
        pytest.param(
            'a;\n  b "x;y" c;',
            [Statement("a;", 1, 1), Statement('b "x;y" c;', 2, 3)],
            id="semicolon in string",
        ),
        pytest.param(
            '// x; y\n@id("q\\";") p',
            [Statement('@id("q\\";") p', 2, 1)],
            id="comment and escaped quote, trailing text without semicolon",
        ),
    ],
)
def test_split_statements(text: str, expected: list[Statement]) -> None:
    assert split_statements(text) == expected
