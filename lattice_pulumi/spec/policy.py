"""The CedarPolicy kind: Cedar policy text the authorizer evaluates, with ordering and reach.

Only the document's shape is checked here (non-empty text holding at least one ``permit`` or
``forbid`` statement); ``lattice_pulumi.policy`` parses and validates the Cedar itself.
"""

from __future__ import annotations

import re
from typing import Annotated, ClassVar, Literal

from pydantic import AfterValidator

from lattice_pulumi.spec.base import SpecModel
from lattice_pulumi.spec.meta import Resource, Status

__all__ = ["CedarPolicy", "CedarPolicySpec", "CedarPolicyStatus", "PolicyPhase"]

PolicyPhase = Literal["Pending", "Active", "Invalid", "Disabled"]
_STATEMENT = re.compile(r"(^|[;}\s])(permit|forbid)\s*\(")


def _check_policy_text(value: str) -> str:
    if not value.strip():
        raise ValueError("policies is empty: expected Cedar permit(...) or forbid(...) statements")
    if not _STATEMENT.search(value):
        raise ValueError("policies holds no permit(...) or forbid(...) statement")
    return value


CedarText = Annotated[str, AfterValidator(_check_policy_text)]


class CedarPolicySpec(SpecModel):
    """Cedar policies; higher ``priority`` is evaluated first, ``propagate`` copies to children."""

    description: str | None = None
    policies: CedarText
    priority: int = 0
    enabled: bool = True
    propagate: bool = False


class CedarPolicyStatus(Status):
    """Whether the policies parsed and how many statements they hold."""

    phase: PolicyPhase | None = None
    policy_count: int | None = None


class CedarPolicy(Resource):
    """A namespaced CedarPolicy document."""

    plural: ClassVar[str] = "cedarpolicies"
    short_names: ClassVar[tuple[str, ...]] = ("cedar",)
    printer_columns: ClassVar[tuple[tuple[str, str, str], ...]] = (
        ("Enabled", "boolean", ".spec.enabled"),
        ("Priority", "integer", ".spec.priority"),
        ("Propagate", "boolean", ".spec.propagate"),
        ("Policies", "integer", ".status.policyCount"),
        ("Phase", "string", ".status.phase"),
        ("Age", "date", ".metadata.creationTimestamp"),
    )

    kind: Literal["CedarPolicy"]
    spec: CedarPolicySpec
    status: CedarPolicyStatus | None = None
