"""The version rollout of a self-managed cluster: control plane first, one minor at a time.

``plan_rollout(target, control_plane, pools)`` is pure. It returns a ``Rollout``: the
version to set on the control plane (or None), the pools whose MachineDeployment version to
set (and to what), the stage and the ``VersionUpgraded`` condition's reason and message.
The rules, in the order they are checked:

1. Refused, nothing changes: the target is older than the control plane's version
   (``DowngradeRefused``); the target has another major version, or the control plane was
   set (outside Lattice) more than one minor past what it runs (``SkipRefused``); a pool
   was set past the control plane (``PoolAheadOfControlPlane``).
2. The control plane is not up yet (no version reported): wait.
3. The control plane is rolling (its spec version not yet reported by every machine):
   wait; pools are never touched while it rolls.
4. Pools not at the control plane's version get it, all together; then wait until each
   pool's machines are all of the new template and available.
5. Everything runs the target: done. Otherwise the control plane gets ``next_step``.

So a pool never runs a minor the control plane does not run everywhere, and no object ever
moves by more than one minor in one step.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from lattice_pulumi.operator.cluster_observed import ControlPlaneView, PoolView
from lattice_pulumi.operator.cluster_versions import Version, next_step

__all__ = ["Rollout", "plan_rollout"]


@dataclass(frozen=True)
class Rollout:
    """The next version changes and how the rollout stands."""

    stage: str  # Waiting, ControlPlane, Pools, Done, Refused
    reason: str
    message: str
    step: Version | None = None
    control_plane_version: Version | None = None
    """Set the control plane's version to this (None: leave it)."""
    pool_versions: tuple[tuple[str, Version], ...] = ()
    """Set these pools' version (pool name, version)."""

    @property
    def done(self) -> bool:
        return self.stage == "Done"


def _refusal(target: Version, plane: ControlPlaneView, pools: Sequence[PoolView]) -> Rollout | None:
    spec = plane.spec_version
    assert spec is not None
    running = plane.status_version or spec
    if target.major != spec.major:
        return _refused(
            "SkipRefused",
            f"{target} is another major version than the control plane's {spec}: "
            "upgrades go one minor at a time within a major version",
        )
    if target < spec:
        return _refused(
            "DowngradeRefused",
            f"spec.provider.kubernetes.version {target} is older than the control plane's "
            f"{spec}: downgrades are refused (set {spec} or newer)",
        )
    if spec.minor > running.minor + 1:
        return _refused(
            "SkipRefused",
            f"the control plane was set to {spec} while it runs {running}: that skips a "
            f"minor version; set it to {running.minor_line} or {running.major}."
            f"{running.minor + 1} on the control plane object",
        )
    ahead = sorted(p.name for p in pools if p.spec_version is not None and p.spec_version > spec)
    if ahead:
        return _refused(
            "PoolAheadOfControlPlane",
            f"pools {', '.join(ahead)} are set to a newer version than the control plane's "
            f"{spec}: set them back to {spec}",
        )
    return None


def _refused(reason: str, message: str) -> Rollout:
    return Rollout("Refused", reason, message)


def plan_rollout(target: Version, plane: ControlPlaneView, pools: Sequence[PoolView]) -> Rollout:
    """The next step towards ``target`` (module docstring)."""
    if plane.spec_version is None:
        return Rollout("Waiting", "NoControlPlaneVersion", "the control plane sets no version")
    refused = _refusal(target, plane, pools)
    if refused is not None:
        return refused
    if plane.status_version is None:
        return Rollout(
            "Waiting",
            "ControlPlaneProvisioning",
            "waiting for the control plane to report its version",
            step=plane.spec_version,
        )
    if not plane.settled:
        return Rollout(
            "ControlPlane",
            "UpgradingControlPlane",
            f"control plane rolling to {plane.spec_version} "
            f"({plane.up_to_date}/{plane.replicas} machines up to date, "
            f"reported version {plane.status_version})",
            step=plane.spec_version,
        )
    current = plane.spec_version
    behind = tuple((p.name, current) for p in pools if p.spec_version != current)
    if behind:
        names = ", ".join(name for name, _ in behind)
        return Rollout(
            "Pools",
            "UpgradingPools",
            f"setting pools {names} to {current}",
            step=current,
            pool_versions=behind,
        )
    rolling = [p for p in pools if not p.settled]
    if rolling:
        counts = ", ".join(f"{p.name} {p.up_to_date}/{p.replicas}" for p in rolling)
        return Rollout(
            "Pools", "UpgradingPools", f"pools rolling to {current} ({counts})", step=current
        )
    if current == target:
        return Rollout("Done", "UpToDate", f"control plane and pools run {target}", step=target)
    step = next_step(current, target)
    return Rollout(
        "ControlPlane",
        "UpgradingControlPlane",
        f"upgrading the control plane {current} -> {step} (target {target})",
        step=step,
        control_plane_version=step,
    )
