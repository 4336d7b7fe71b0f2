"""Status of the kinds the operator validates: CedarPolicy, SecretProvider, CloudProvider.

Each ``check_*`` returns the status to write (phase, message, a ``Valid`` condition and
the observed generation); it is pure except ``check_cloud_provider``'s ``secret_exists``
callback, which says whether the credentials Secret is there (a missing one is "not yet").
A CedarPolicy is parsed and validated against the schema on its own, so its status names
its own problems even while the shared policy set skips it.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from typing import Any

from lattice_pulumi.errors import LatticeError
from lattice_pulumi.operator.specs import model_from_body
from lattice_pulumi.policy import policyset
from lattice_pulumi.policy.sources import source_from_policy
from lattice_pulumi.spec.meta import Resource
from lattice_pulumi.spec.policy import CedarPolicy
from lattice_pulumi.spec.providers import CloudProvider

__all__ = ["Checked", "check_cloud_provider", "check_policy", "check_provider"]


@dataclass(frozen=True)
class Checked:
    """A validation result: the model (None if invalid), the status, and whether to retry."""

    model: Resource | None
    status: dict[str, Any]
    retry: bool = False


def _status(
    body: Mapping[str, Any], phase: str, ok: bool, reason: str, message: str, now: str, **extra: Any
) -> dict[str, Any]:
    generation = int(body.get("metadata", {}).get("generation") or 0)
    condition = {
        "type": "Valid",
        "status": "True" if ok else "False",
        "reason": reason,
        "message": message,
        "lastTransitionTime": now,
        "observedGeneration": generation,
    }
    return {
        "phase": phase,
        "message": message,
        "observedGeneration": generation,
        "conditions": [condition],
        **extra,
    }


def check_policy(body: Mapping[str, Any], now: str) -> Checked:
    """A CedarPolicy: shape, then Cedar parse and schema validation of its text."""
    try:
        policy = model_from_body(body)
    except LatticeError as exc:
        return Checked(None, _status(body, "Invalid", False, "InvalidSpec", str(exc), now))
    assert isinstance(policy, CedarPolicy)
    source = source_from_policy(policy)
    if not policy.spec.enabled:
        return Checked(
            policy, _status(body, "Disabled", True, "Disabled", "disabled", now, policyCount=0)
        )
    built = policyset.build_policy_set([source])
    if built.report.problems:
        text = "; ".join(str(p) for p in built.report.problems)
        return Checked(None, _status(body, "Invalid", False, "InvalidCedar", text, now))
    count = sum(1 for info in built.policies.values() if info.source == source.label)
    message = f"{count} statement{'s' if count != 1 else ''} active"
    return Checked(policy, _status(body, "Active", True, "Valid", message, now, policyCount=count))


def check_provider(body: Mapping[str, Any], now: str) -> Checked:
    """A SecretProvider: the model's checks (exactly one provider block, references)."""
    try:
        model = model_from_body(body)
    except LatticeError as exc:
        return Checked(None, _status(body, "Failed", False, "InvalidSpec", str(exc), now))
    return Checked(model, _status(body, "Ready", True, "Valid", "valid", now))


async def check_cloud_provider(
    body: Mapping[str, Any], now: str, secret_exists: Callable[[str, str], Awaitable[bool]]
) -> Checked:
    """A CloudProvider: the model's checks, then its credentials Secret must exist."""
    try:
        model = model_from_body(body)
    except LatticeError as exc:
        return Checked(None, _status(body, "Failed", False, "InvalidSpec", str(exc), now))
    assert isinstance(model, CloudProvider)
    credentials = model.spec.credentials
    if credentials is not None:
        ref = credentials.secret_ref
        namespace = ref.namespace or model.namespace
        if not await secret_exists(namespace, ref.name):
            message = f"credentials Secret {namespace}/{ref.name} not found"
            return Checked(
                model, _status(body, "Pending", False, "SecretMissing", message, now), retry=True
            )
    return Checked(model, _status(body, "Ready", True, "Valid", "valid", now))
