"""The LatticeBackupPolicy kind: a scheduled Velero backup of part of a cluster.

The shape follows Velero's ``Schedule`` (``schedule`` plus the backup ``template`` fields,
flattened): the compiler turns one policy into one ``velero.io/v1`` Schedule.
"""

from __future__ import annotations

import re
from typing import Annotated, ClassVar, Literal

from pydantic import AfterValidator, Field, model_validator

from lattice_pulumi.spec.base import DnsLabel, DnsSubdomain, Duration, LabelKey, SpecModel
from lattice_pulumi.spec.meta import Resource, Status

__all__ = [
    "BackupHook",
    "BackupPhase",
    "CronSchedule",
    "ExecHook",
    "HookStep",
    "LabelSelector",
    "LatticeBackupPolicy",
    "LatticeBackupPolicySpec",
    "LatticeBackupPolicyStatus",
]

BackupPhase = Literal["Pending", "Active", "Paused", "Failed"]

_MONTHS = {
    m: i + 1
    for i, m in enumerate(
        ("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec")
    )
}
_DAYS = {d: i for i, d in enumerate(("sun", "mon", "tue", "wed", "thu", "fri", "sat"))}
# (name, low, high, names, "?" allowed) per field, in order.
_CRON_FIELDS: tuple[tuple[str, int, int, dict[str, int], bool], ...] = (
    ("minute", 0, 59, {}, False),
    ("hour", 0, 23, {}, False),
    ("day-of-month", 1, 31, {}, True),
    ("month", 1, 12, _MONTHS, False),
    ("day-of-week", 0, 6, _DAYS, True),
)


def _cron_value(text: str, low: int, high: int, names: dict[str, int]) -> int:
    if text.lower() in names:
        return names[text.lower()]
    if not text.isdigit():
        raise ValueError(f"'{text}' is not a number")
    value = int(text)
    if not low <= value <= high:
        raise ValueError(f"'{text}' is out of range {low}-{high}")
    return value


def _check_cron_part(part: str, low: int, high: int, names: dict[str, int]) -> None:
    span, slash, step = part.partition("/")
    if slash and (not step.isdigit() or int(step) == 0):
        raise ValueError(f"step '{step}' in '{part}' is not a positive number")
    if span == "*":
        return
    first, dash, last = span.partition("-")
    start = _cron_value(first, low, high, names)
    if dash and _cron_value(last, low, high, names) < start:
        raise ValueError(f"range '{span}' runs backwards")


def _check_cron(value: str) -> str:
    fields = value.split()
    if len(fields) != len(_CRON_FIELDS):
        raise ValueError(
            f"'{value}' is not a cron schedule: expected 5 fields (minute hour "
            f"day-of-month month day-of-week), got {len(fields)}"
        )
    for text, (name, low, high, names, question) in zip(fields, _CRON_FIELDS, strict=True):
        if question and text == "?":
            continue
        try:
            for part in text.split(","):
                _check_cron_part(part, low, high, names)
        except ValueError as exc:
            raise ValueError(f"'{value}' is not a cron schedule: {name} {exc}") from None
    return value


def _check_namespace_pattern(value: str) -> str:
    if len(value) > 63 or not re.fullmatch(r"[a-z0-9*?]([-a-z0-9*?]*[a-z0-9*?])?", value):
        raise ValueError(
            f"'{value}' is not a namespace or namespace pattern: expected a DNS "
            "label, optionally with * and ? wildcards"
        )
    return value


CronSchedule = Annotated[str, AfterValidator(_check_cron)]
NamespacePattern = Annotated[str, AfterValidator(_check_namespace_pattern)]


class LabelSelector(SpecModel):
    """Objects carrying all of these labels."""

    match_labels: dict[LabelKey, str] = Field(default_factory=dict)


class ExecHook(SpecModel):
    """A command run in a pod's container."""

    container: DnsLabel | None = None
    """Defaults to the pod's first container."""
    command: list[str] = Field(min_length=1)
    on_error: Literal["Continue", "Fail"] = "Fail"
    timeout: Duration = "30s"


class HookStep(SpecModel):
    """One step of a hook (Velero's ``pre``/``post`` item)."""

    exec: ExecHook


class BackupHook(SpecModel):
    """Commands run in matching pods before and after their volumes are backed up."""

    name: str = Field(min_length=1)
    included_namespaces: list[NamespacePattern] = Field(default_factory=list)
    excluded_namespaces: list[NamespacePattern] = Field(default_factory=list)
    label_selector: LabelSelector | None = None
    pre: list[HookStep] = Field(default_factory=list)
    post: list[HookStep] = Field(default_factory=list)

    @model_validator(mode="after")
    def _has_steps(self) -> BackupHook:
        if not self.pre and not self.post:
            raise ValueError(f"hook '{self.name}' has no steps: expected pre or post commands")
        return self


class LatticeBackupPolicySpec(SpecModel):
    """When to back up what, where, and for how long to keep it."""

    schedule: CronSchedule
    ttl: Duration = "720h"
    selector: LabelSelector | None = None
    included_namespaces: list[NamespacePattern] = Field(default_factory=list)
    """Empty means every namespace."""
    excluded_namespaces: list[NamespacePattern] = Field(default_factory=list)
    storage_location: DnsSubdomain | None = None
    """Velero BackupStorageLocation; defaults to the cluster's ``backups.storageLocation``."""
    snapshot_volumes: bool = True
    hooks: list[BackupHook] = Field(default_factory=list)
    paused: bool = False

    @model_validator(mode="after")
    def _consistent(self) -> LatticeBackupPolicySpec:
        both = sorted(set(self.included_namespaces) & set(self.excluded_namespaces))
        if both:
            raise ValueError(
                f"namespaces {', '.join(both)} are both in includedNamespaces "
                "and excludedNamespaces"
            )
        names = [hook.name for hook in self.hooks]
        repeated = sorted({n for n in names if names.count(n) > 1})
        if repeated:
            raise ValueError(f"hook names must be unique: {', '.join(repeated)} repeated")
        return self


class LatticeBackupPolicyStatus(Status):
    """The generated Schedule's state and the latest backup it made."""

    phase: BackupPhase | None = None
    last_backup: str | None = None
    last_backup_time: str | None = None


class LatticeBackupPolicy(Resource):
    """A namespaced LatticeBackupPolicy document."""

    plural: ClassVar[str] = "latticebackuppolicies"
    short_names: ClassVar[tuple[str, ...]] = ("lbp",)
    printer_columns: ClassVar[tuple[tuple[str, str, str], ...]] = (
        ("Schedule", "string", ".spec.schedule"),
        ("TTL", "string", ".spec.ttl"),
        ("Paused", "boolean", ".spec.paused"),
        ("Last Backup", "date", ".status.lastBackupTime"),
        ("Phase", "string", ".status.phase"),
        ("Age", "date", ".metadata.creationTimestamp"),
    )

    kind: Literal["LatticeBackupPolicy"]
    spec: LatticeBackupPolicySpec
    status: LatticeBackupPolicyStatus | None = None
