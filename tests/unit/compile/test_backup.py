"""LatticeBackupPolicy to Velero Schedule: field by field, defaults, refusals, golden file."""

from __future__ import annotations

import os
from typing import Any

import pytest

from lattice_pulumi.compile.backup import compile_backup_policy
from lattice_pulumi.errors import CompileError
from lattice_pulumi.spec import loader
from lattice_pulumi.spec.backup import LatticeBackupPolicy
from lattice_pulumi.spec.yamlout import dump_all as dump_yaml
from tests.conftest import EXAMPLES, ROOT
from tests.manifests import assert_valid
from tests.unit.compile.cluster.helpers import example

GOLDEN = ROOT / "tests" / "golden" / "addons" / "nightly-schedule.yaml"


def _policy(name: str = "hourly", **spec: Any) -> LatticeBackupPolicy:
    return LatticeBackupPolicy.model_validate(
        {
            "apiVersion": "lattice.dev/v1alpha1",
            "kind": "LatticeBackupPolicy",
            "metadata": {"name": name, "namespace": "shop"},
            "spec": {"schedule": "0 * * * *", **spec},
        }
    )


def _cluster(**changes: Any) -> Any:
    cluster, _ = example(
        "aws", spec__backups={"enabled": True, "storageLocation": "s3-main"}, **changes
    )
    return cluster


def test_the_nightly_example_matches_its_golden_file_and_the_velero_schema() -> None:
    [policy] = [r for r in loader.load(EXAMPLES / "backups") if isinstance(r, LatticeBackupPolicy)]
    schedule = compile_backup_policy(policy, _cluster())
    assert_valid([schedule])
    rendered = dump_yaml([schedule])
    if os.environ.get("UPDATE_GOLDEN"):
        GOLDEN.parent.mkdir(parents=True, exist_ok=True)
        GOLDEN.write_text(rendered)
    assert GOLDEN.exists(), f"missing {GOLDEN}: run with UPDATE_GOLDEN=1 and review it"
    assert rendered == GOLDEN.read_text()


def test_defaults_take_the_clusters_storage_location_and_every_namespace() -> None:
    schedule = compile_backup_policy(_policy(), _cluster())
    assert schedule["metadata"] == {
        "name": "shop-hourly",
        "namespace": "velero",
        "labels": {
            "app.kubernetes.io/managed-by": "lattice",
            "lattice.dev/cluster": "production",
            "lattice.dev/backup-policy": "hourly",
            "lattice.dev/backup-policy-namespace": "shop",
        },
    }
    assert schedule["spec"] == {
        "schedule": "0 * * * *",
        "paused": False,
        "useOwnerReferencesInBackup": False,
        "template": {"storageLocation": "s3-main", "snapshotVolumes": True, "ttl": "720h"},
    }
    assert_valid([schedule])


def test_policy_fields_carry_over() -> None:
    policy = _policy(
        ttl="24h", paused=True, storageLocation="other", snapshotVolumes=False,
        includedNamespaces=["shop", "web-*"], selector={"matchLabels": {"tier": "db"}},
        hooks=[{"name": "flush", "post": [{"exec": {"command": ["sync"]}}]}],
    )  # fmt: skip
    spec = compile_backup_policy(policy, _cluster())["spec"]
    assert spec["paused"] is True
    assert spec["template"] == {
        "includedNamespaces": ["shop", "web-*"],
        "labelSelector": {"matchLabels": {"tier": "db"}},
        "storageLocation": "other",
        "snapshotVolumes": False,
        "ttl": "24h",
        "hooks": {
            "resources": [
                {
                    "name": "flush",
                    "post": [{"exec": {"command": ["sync"], "onError": "Fail", "timeout": "30s"}}],
                }
            ]
        },
    }


def test_a_cluster_without_backups_is_refused() -> None:
    cluster, _ = example("aws", spec__backups={"enabled": False})
    with pytest.raises(
        CompileError,
        match=r"^LatticeBackupPolicy shop/hourly: cluster 'production' has backups off",
    ):
        compile_backup_policy(_policy(), cluster)


def test_a_name_too_long_for_a_label_value_is_refused() -> None:
    policy = _policy("x" * 60)
    with pytest.raises(
        CompileError, match=r"metadata\.name: Schedule name 'shop-x+' is 65 characters"
    ):
        compile_backup_policy(policy, _cluster())
