"""Turn policy sources into one validated Cedar policy set whose ids name their origin.

Each enabled source is parsed and validated against the schema on its own, so a bad source
is reported (at the line and column of the failing statement) and skipped without touching
the others. Surviving policies are renamed from cedarpy's positional ``policyN`` to
``namespace/name[N]`` (``... (inherited)`` for inherited sources) and merged through Cedar's
JSON policy format, so authorization reasons name CedarPolicy objects directly.

Besides the whole set, one smaller set per action is kept, holding only the policies whose
action scope can match that action (``action == A``, ``action in [..]`` through the action
groups of the schema, or no action constraint). Cedar's decision for a request with action
``A`` is the same over either set, since the other policies cannot be satisfied; evaluating
fewer policies is what makes the per-request cost independent of unrelated paths.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Iterable
from dataclasses import dataclass
from importlib import resources
from typing import Any

import cedarpy

from lattice_pulumi.policy import schema as cedar_schema
from lattice_pulumi.policy import statements as cedar_statements
from lattice_pulumi.policy.problems import PolicyProblem
from lattice_pulumi.policy.sources import PolicySource, order_sources

__all__ = [
    "BUILTIN_SOURCE",
    "BuiltPolicySet",
    "LoadReport",
    "PolicyInfo",
    "build_policy_set",
    "policy_id",
    "source_id",
]

BUILTIN_SOURCE = "lattice:builtin"


@dataclass(frozen=True)
class PolicyInfo:
    """Where one Cedar policy of the set came from, for reasons and audit logs."""

    id: str
    source: str
    index: int
    effect: str
    inherited: bool = False
    line: int | None = None
    column: int | None = None
    reason: str = ""  # the policy's @reason annotation, if any


@dataclass(frozen=True)
class LoadReport:
    """Which sources a load took, which were disabled and what was wrong with the rest."""

    loaded: tuple[str, ...] = ()
    disabled: tuple[str, ...] = ()
    problems: tuple[PolicyProblem, ...] = ()


@dataclass(frozen=True)
class BuiltPolicySet:
    """The outcome of one load: the merged set, where each policy came from, the report."""

    policy_set: cedarpy.PolicySet
    policies: dict[str, PolicyInfo]
    report: LoadReport
    by_action: dict[str, cedarpy.PolicySet]

    def for_action(self, action: str) -> cedarpy.PolicySet:
        """The policies that can apply to ``action`` (the whole set for an unknown action)."""
        return self.by_action.get(action, self.policy_set)


def source_id(source: PolicySource) -> str:
    """``namespace/name``, suffixed `` (inherited)`` for an inherited source."""
    return f"{source.label} (inherited)" if source.inherited else source.label


def policy_id(source: PolicySource, index: int) -> str:
    """``namespace/name[index]``, suffixed `` (inherited)`` for an inherited source."""
    suffix = " (inherited)" if source.inherited else ""
    return f"{source.label}[{index}]{suffix}"


@functools.cache
def _builtin_source() -> PolicySource:
    text = (resources.files(__package__) / "builtin.cedar").read_text(encoding="utf-8")
    return PolicySource(BUILTIN_SOURCE, "", text)


@dataclass(frozen=True)
class _Compiled:
    static: dict[str, Any]
    infos: list[PolicyInfo]


def build_policy_set(sources: Iterable[PolicySource]) -> BuiltPolicySet:
    """Parse, validate and merge ``sources`` (plus the built-in policies) in source order."""
    schema = cedar_schema.load_schema()
    static: dict[str, Any] = {}
    infos: dict[str, PolicyInfo] = {}
    loaded: list[str] = []
    disabled: list[str] = []
    problems: list[PolicyProblem] = []
    seen: set[tuple[str, bool]] = set()
    for source in [_builtin_source(), *order_sources(sources)]:
        name = source_id(source)
        if not source.enabled:
            disabled.append(name)
            continue
        if (source.label, source.inherited) in seen:
            problems.append(_problem(source, "duplicate policy source name; skipped"))
            continue
        seen.add((source.label, source.inherited))
        compiled = _compile_source(source, schema)
        if isinstance(compiled, list):
            problems.extend(compiled)
            continue
        static.update(compiled.static)
        infos.update((info.id, info) for info in compiled.infos)
        if source.label != BUILTIN_SOURCE:
            loaded.append(name)
    return BuiltPolicySet(
        policy_set=_policy_set(static),
        policies=infos,
        report=LoadReport(tuple(loaded), tuple(disabled), tuple(problems)),
        by_action={
            action: _policy_set(
                {pid: body for pid, body in static.items() if _may_apply(body, action)}
            )
            for action in cedar_schema.ACTIONS
        },
    )


def _policy_set(static: dict[str, Any]) -> cedarpy.PolicySet:
    document = {"staticPolicies": static, "templates": {}, "templateLinks": []}
    return cedarpy.PolicySet.from_json_str(json.dumps(document))


def _may_apply(body: dict[str, Any], action: str) -> bool:
    """Whether a policy's action scope (Cedar JSON form) can match ``action``."""
    scope = body.get("action") or {}
    op = scope.get("op")
    if op == "All":
        return True
    if op == "==":
        return bool(_action_name(scope.get("entity")) == action)
    if op == "in":
        wanted = {action, *cedar_schema.ACTION_GROUPS.get(action, ())}
        targets = scope["entities"] if "entities" in scope else [scope.get("entity")]
        return any(_action_name(t) in wanted for t in targets)
    return True  # a form this filter does not know: keep the policy


def _action_name(entity: Any) -> str | None:
    if isinstance(entity, dict) and entity.get("type") == f"{cedar_schema.NAMESPACE}::Action":
        return str(entity.get("id"))
    return None


def _problem(
    source: PolicySource, message: str, where: cedar_statements.Statement | None = None
) -> PolicyProblem:
    line, column = (where.line, where.column) if where else (None, None)
    return PolicyProblem(source.label, message, source.file, line, column)


def _compile_source(
    source: PolicySource, schema: cedarpy.Schema
) -> _Compiled | list[PolicyProblem]:
    statements = cedar_statements.split_statements(source.text)
    try:
        est = json.loads(cedarpy.policies_to_json_str(source.text))
    except ValueError as exc:
        return [_locate_parse_error(source, statements, exc)]
    if est.get("templates"):
        return [_problem(source, "policy templates (?principal, ?resource) are not supported")]
    policies: dict[str, Any] = est.get("staticPolicies", {})
    positions = statements if len(statements) == len(policies) else []
    result = cedarpy.validate_policies(source.text, schema)
    if not result.validation_passed:
        return [
            _problem(source, _strip_policy_id(e.error), _position(positions, e.policy_id))
            for e in result.errors
        ]
    compiled = _Compiled({}, [])
    for index in range(len(policies)):
        body = policies[f"policy{index}"]
        new_id = policy_id(source, index)
        where = _position(positions, f"policy{index}")
        compiled.static[new_id] = body
        compiled.infos.append(
            PolicyInfo(
                id=new_id,
                source=source.label,
                index=index,
                effect=str(body.get("effect", "")),
                inherited=source.inherited,
                line=where.line if where else None,
                column=where.column if where else None,
                reason=str((body.get("annotations") or {}).get("reason") or ""),
            )
        )
    return compiled


def _position(
    statements: list[cedar_statements.Statement], cedar_id: str
) -> cedar_statements.Statement | None:
    if not cedar_id.startswith("policy") or not cedar_id[6:].isdigit():
        return None
    index = int(cedar_id[6:])
    return statements[index] if index < len(statements) else None


def _strip_policy_id(message: str) -> str:
    """Drop cedarpy's ``for policy `policy3`, `` prefix: the position says which policy."""
    if message.startswith("for policy `"):
        _, _, rest = message.partition("`, ")
        return rest or message
    return message


def _locate_parse_error(
    source: PolicySource, statements: list[cedar_statements.Statement], exc: ValueError
) -> PolicyProblem:
    for statement in statements:
        try:
            cedarpy.policies_to_json_str(statement.text)
        except ValueError as inner:
            return _problem(source, f"parse error: {inner}", statement)
    return _problem(source, f"parse error: {exc}")
