"""LatticeBackupPolicy: cron schedules, namespaces, hooks, and the exact refusals."""

from __future__ import annotations

from typing import Any

import pytest
from pydantic import ValidationError

from lattice_pulumi.spec.backup import LatticeBackupPolicy

EXEC = {"exec": {"command": ["sync"]}}


def backup(**spec: Any) -> dict[str, Any]:
    return {
        "apiVersion": "lattice.dev/v1alpha1",
        "kind": "LatticeBackupPolicy",
        "metadata": {"name": "nightly", "namespace": "lattice-system"},
        "spec": {"schedule": "0 2 * * *", **spec},
    }


def errors_of(doc: dict[str, Any]) -> list[tuple[tuple[str | int, ...], str]]:
    with pytest.raises(ValidationError) as caught:
        LatticeBackupPolicy.model_validate(doc)
    return [(tuple(e["loc"]), e["msg"]) for e in caught.value.errors()]


@pytest.mark.parametrize("schedule", [
    pytest.param("0 2 * * *", id="nightly"),
    pytest.param("*/15 * * * *", id="every quarter hour"),
    pytest.param("0 0-23/6 1,15 * ?", id="ranges steps lists and question mark"),
    pytest.param("30 4 * JAN-MAR mon-fri", id="month and day names"),
    pytest.param("5/10 * * * 0", id="start with step"),
])
def test_cron_schedules_are_accepted(schedule: str) -> None:
    LatticeBackupPolicy.model_validate(backup(schedule=schedule))


def test_defaults_follow_velero() -> None:
    spec = LatticeBackupPolicy.model_validate(backup()).spec
    assert (spec.ttl, spec.snapshot_volumes, spec.storage_location, spec.paused) == (
        "720h", True, None, False)


SCHEDULE = ("spec", "schedule")
INVALID = [
    pytest.param(backup(schedule="0 2 * *"), SCHEDULE,
                 "Value error, '0 2 * *' is not a cron schedule: expected 5 fields (minute hour "
                 "day-of-month month day-of-week), got 4", id="four fields"),
    pytest.param(backup(schedule="@daily"), SCHEDULE,
                 "Value error, '@daily' is not a cron schedule: expected 5 fields (minute hour "
                 "day-of-month month day-of-week), got 1", id="descriptor"),
    pytest.param(backup(schedule="0 24 * * *"), SCHEDULE,
                 "Value error, '0 24 * * *' is not a cron schedule: hour '24' is out of range "
                 "0-23", id="hour out of range"),
    pytest.param(backup(schedule="0 2 0 * *"), SCHEDULE,
                 "Value error, '0 2 0 * *' is not a cron schedule: day-of-month '0' is out of "
                 "range 1-31", id="day zero"),
    pytest.param(backup(schedule="*/0 * * * *"), SCHEDULE,
                 "Value error, '*/0 * * * *' is not a cron schedule: minute step '0' in '*/0' is "
                 "not a positive number", id="zero step"),
    pytest.param(backup(schedule="0 2 * * fri-mon"), SCHEDULE,
                 "Value error, '0 2 * * fri-mon' is not a cron schedule: day-of-week range "
                 "'fri-mon' runs backwards", id="backwards range"),
    pytest.param(backup(schedule="? 2 * * *"), SCHEDULE,
                 "Value error, '? 2 * * *' is not a cron schedule: minute '?' is not a number",
                 id="question mark in minutes"),
    pytest.param(backup(ttl="30d"), ("spec", "ttl"),
                 "Value error, '30d' is not a duration: expected forms such as 30s, 5m, 1h30m",
                 id="ttl in days"),
    pytest.param(backup(includedNamespaces=["shop", "db"], excludedNamespaces=["db"]), ("spec",),
                 "Value error, namespaces db are both in includedNamespaces and "
                 "excludedNamespaces", id="namespace included and excluded"),
    pytest.param(backup(includedNamespaces=["Shop"]), ("spec", "includedNamespaces", 0),
                 "Value error, 'Shop' is not a namespace or namespace pattern: expected a DNS "
                 "label, optionally with * and ? wildcards", id="bad namespace"),
    pytest.param(backup(selector={"matchLabels": {"app": "x"}, "matchExpressions": []}),
                 ("spec", "selector", "matchExpressions"), "Extra inputs are not permitted",
                 id="match expressions not supported"),
    pytest.param(backup(hooks=[{"name": "flush"}]), ("spec", "hooks", 0),
                 "Value error, hook 'flush' has no steps: expected pre or post commands",
                 id="hook without steps"),
    pytest.param(backup(hooks=[{"name": "a", "pre": [EXEC]}, {"name": "a", "post": [EXEC]}]),
                 ("spec",), "Value error, hook names must be unique: a repeated",
                 id="duplicate hook names"),
    pytest.param(backup(hooks=[{"name": "a", "pre": [{"exec": {"command": ["x"],
                                                               "onError": "Ignore"}}]}]),
                 ("spec", "hooks", 0, "pre", 0, "exec", "onError"),
                 "Input should be 'Continue' or 'Fail'", id="bad onError"),
    pytest.param(backup(hooks=[{"name": "a", "pre": [{"exec": {"command": []}}]}]),
                 ("spec", "hooks", 0, "pre", 0, "exec", "command"),
                 "List should have at least 1 item after validation, not 0", id="empty command"),
]


@pytest.mark.parametrize(("doc", "loc", "message"), INVALID)
def test_invalid_backup_names_field_and_problem(
    doc: dict[str, Any], loc: tuple[str | int, ...], message: str
) -> None:
    assert errors_of(doc) == [(loc, message)]


def test_every_backup_problem_is_reported_at_once() -> None:
    doc = backup(schedule="60 * * * *", ttl="forever", storageLocation="S3")
    assert errors_of(doc) == [
        (SCHEDULE, "Value error, '60 * * * *' is not a cron schedule: minute '60' is out of "
         "range 0-59"),
        (("spec", "ttl"), "Value error, 'forever' is not a duration: expected forms such as "
         "30s, 5m, 1h30m"),
        (("spec", "storageLocation"), "Value error, 'S3' is not a DNS subdomain: expected "
         "dot-separated DNS labels, at most 253 characters"),
    ]
