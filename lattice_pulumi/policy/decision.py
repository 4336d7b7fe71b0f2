"""Decisions: allow or deny, and why, in words that name CedarPolicy objects.

``decide`` turns one cedarpy result into a ``Decision``. The reason lists the determining
policies by the ids the policy set gave them (``namespace/name[index]``), adds a forbid's
``@reason`` annotation when it has one, and says "no permit" when nothing matched, so audit
logs and error messages can say why without a second lookup.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import cedarpy

from lattice_pulumi.policy.policyset import PolicyInfo

__all__ = ["NO_PERMIT", "Decision", "decide"]

NO_PERMIT = "no permit"


@dataclass(frozen=True)
class Decision:
    """The authorizer's answer: ``allowed``, a one-line ``reason`` and the policies behind it."""

    allowed: bool
    reason: str
    policies: tuple[str, ...] = ()

    def __bool__(self) -> bool:
        return self.allowed


def decide(result: cedarpy.AuthzResult, policies: Mapping[str, PolicyInfo]) -> Decision:
    """Translate a cedarpy result; a request Cedar could not evaluate is denied."""
    diagnostics = result.diagnostics
    determining = tuple(diagnostics.reasons)
    errors = [str(e) for e in diagnostics.errors]
    if result.decision is cedarpy.Decision.NoDecision:
        return Decision(False, f"invalid request: {'; '.join(errors) or 'no decision'}")
    if result.allowed:
        return Decision(True, f"permitted by {', '.join(determining)}", determining)
    if determining:
        named = [_with_reason(pid, policies.get(pid)) for pid in determining]
        return Decision(False, f"forbidden by {', '.join(named)}", determining)
    if errors:
        return Decision(False, f"{NO_PERMIT} ({len(errors)} failed to evaluate: {errors[0]})")
    return Decision(False, NO_PERMIT)


def _with_reason(policy_id: str, info: PolicyInfo | None) -> str:
    return f"{policy_id} ({info.reason})" if info and info.reason else policy_id
