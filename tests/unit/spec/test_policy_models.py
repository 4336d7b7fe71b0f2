"""CedarPolicy: defaults, and the exact refusals of empty or statement-less policy text."""

from __future__ import annotations

from typing import Any

import pytest
from pydantic import ValidationError

from lattice_pulumi.spec.policy import CedarPolicy

PERMIT = 'permit(principal, action == Lattice::Action::"AccessSecret", resource);'


def policy(**spec: Any) -> dict[str, Any]:
    return {
        "apiVersion": "lattice.dev/v1alpha1",
        "kind": "CedarPolicy",
        "metadata": {"name": "secrets", "namespace": "lattice-system"},
        "spec": {"policies": PERMIT, **spec},
    }


def test_defaults() -> None:
    spec = CedarPolicy.model_validate(policy()).spec
    assert (spec.priority, spec.enabled, spec.propagate, spec.description) == (0, True, False, None)


@pytest.mark.parametrize("text", [
    pytest.param(PERMIT, id="one permit"),
    pytest.param('@id("no-db")\nforbid (principal, action, resource)\nwhen { true };', id="forbid"),
    pytest.param(f"// allow secrets\n{PERMIT}\n{PERMIT}", id="comment and two statements"),
])
def test_policy_text_with_statements_is_accepted(text: str) -> None:
    assert CedarPolicy.model_validate(policy(policies=text)).spec.policies == text


INVALID = [
    pytest.param(policy(policies="  \n"), ("spec", "policies"),
                 "Value error, policies is empty: expected Cedar permit(...) or forbid(...) "
                 "statements", id="blank text"),
    pytest.param(policy(policies="allow everything"), ("spec", "policies"),
                 "Value error, policies holds no permit(...) or forbid(...) statement",
                 id="no statement"),
    pytest.param(policy(priority="high"), ("spec", "priority"),
                 "Input should be a valid integer, unable to parse string as an integer",
                 id="priority not a number"),
    pytest.param(policy(propagates=True), ("spec", "propagates"),
                 "Extra inputs are not permitted", id="misspelt propagate"),
    pytest.param({**policy(), "status": {"phase": "Done"}}, ("status", "phase"),
                 "Input should be 'Pending', 'Active', 'Invalid' or 'Disabled'",
                 id="unknown phase"),
]


@pytest.mark.parametrize(("doc", "loc", "message"), INVALID)
def test_invalid_policy_names_field_and_problem(
    doc: dict[str, Any], loc: tuple[str | int, ...], message: str
) -> None:
    with pytest.raises(ValidationError) as caught:
        CedarPolicy.model_validate(doc)
    assert [(tuple(e["loc"]), e["msg"]) for e in caught.value.errors()] == [(loc, message)]


def test_every_policy_problem_is_reported_at_once() -> None:
    with pytest.raises(ValidationError) as caught:
        CedarPolicy.model_validate(policy(policies="", enabled="maybe", priority=1.5))
    assert [(tuple(e["loc"]), e["msg"]) for e in caught.value.errors()] == [
        (("spec", "policies"), "Value error, policies is empty: expected Cedar permit(...) or "
         "forbid(...) statements"),
        (("spec", "priority"), "Input should be a valid integer, got a number with a fractional "
         "part"),
        (("spec", "enabled"), "Input should be a valid boolean, unable to interpret input"),
    ]
