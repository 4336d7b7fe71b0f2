"""A running cluster's objects move between two real API servers, and back, faithfully."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

import pytest
from conftest import Planes
from pivot_support import CLUSTER, comparable, owner_problems, running_cluster, seed, snapshot

from lattice_pulumi.errors import PivotError
from lattice_pulumi.pivot import MoveOptions
from lattice_pulumi.pivot.session import move_clusters, restore_from_directory, save_to_directory

pytestmark = pytest.mark.integration


def _options(namespace: str, **extra: object) -> MoveOptions:
    return MoveOptions(cluster=CLUSTER, namespace=namespace, **extra)  # type: ignore[arg-type]


def _assert_moved(planes_from: object, planes_to: object, before: dict, objects: list) -> None:
    source, target = planes_from, planes_to
    assert snapshot(source.client, objects) == dict.fromkeys(before)  # nothing left
    after = snapshot(target.client, objects)
    assert {k: comparable(v) for k, v in after.items()} == {
        k: comparable(v) for k, v in before.items()
    }
    assert owner_problems(target.client, [o for o in after.values() if o]) == []
    cluster = next(o for k, o in after.items() if k.startswith("Cluster "))
    assert "paused" not in cluster["spec"]  # resumed in the target


def test_move_recreates_every_object_with_owners_remapped_and_back(
    planes: Planes, capi_namespace: str
) -> None:
    objects = running_cluster(capi_namespace)
    seed(planes.source.client, objects)
    before = snapshot(planes.source.client, objects)
    n = len(objects)
    assert all(before.values()) and len(before) == n == 27

    result = asyncio.run(
        move_clusters(
            planes.source.kubeconfig_path, planes.target.kubeconfig_path, _options(capi_namespace)
        )
    )
    assert (result.created, result.adopted, result.deleted) == (n, 0, n)
    _assert_moved(planes.source, planes.target, before, objects)
    time.sleep(3)  # the target's garbage collector deletes objects whose owner UID is wrong
    assert all(snapshot(planes.target.client, objects).values())

    back = asyncio.run(
        move_clusters(
            planes.target.kubeconfig_path, planes.source.kubeconfig_path, _options(capi_namespace)
        )
    )
    assert back.created == n
    _assert_moved(planes.target, planes.source, before, objects)


def test_dry_run_writes_nothing(planes: Planes, capi_namespace: str) -> None:
    objects = running_cluster(capi_namespace)
    seed(planes.source.client, objects)
    before = snapshot(planes.source.client, objects)
    result = asyncio.run(
        move_clusters(
            planes.source.kubeconfig_path,
            planes.target.kubeconfig_path,
            _options(capi_namespace, dry_run=True),
        )
    )
    assert result.plan is not None and result.plan.size == len(objects)
    assert (result.created, result.deleted) == (0, 0)
    assert snapshot(planes.source.client, objects) == before
    assert not any(snapshot(planes.target.client, objects).values())


def test_an_unprovisioned_cluster_is_refused_before_any_write(
    planes: Planes, capi_namespace: str
) -> None:
    objects = running_cluster(capi_namespace)
    for obj in objects:
        if obj["kind"] == "Machine" and obj["metadata"]["name"].endswith("-1"):
            obj.pop("status")
    seed(planes.source.client, objects)
    before = snapshot(planes.source.client, objects)
    with pytest.raises(PivotError) as caught:
        asyncio.run(
            move_clusters(
                planes.source.kubeconfig_path,
                planes.target.kubeconfig_path,
                _options(capi_namespace),
            )
        )
    assert str(caught.value) == (
        "pivot preflight: 1 problem(s):\n"
        f"  Machine {capi_namespace}/dev-default-abc12-1: still provisioning its node"
        " (no status.nodeRef)"
    )
    assert snapshot(planes.source.client, objects) == before


def test_directory_round_trip(planes: Planes, capi_namespace: str, tmp_path: Path) -> None:
    objects = running_cluster(capi_namespace)
    seed(planes.source.client, objects)
    before = snapshot(planes.source.client, objects)
    saved = asyncio.run(
        save_to_directory(
            planes.source.kubeconfig_path, tmp_path / "backup", _options(capi_namespace)
        )
    )
    assert saved.saved == len(objects) == len(list((tmp_path / "backup").glob("*.yaml")))
    assert {k: comparable(v) for k, v in snapshot(planes.source.client, objects).items()} == {
        k: comparable(v) for k, v in before.items()
    }  # the source keeps running (paused, then resumed)

    restored = asyncio.run(
        restore_from_directory(
            tmp_path / "backup", planes.target.kubeconfig_path, _options(capi_namespace)
        )
    )
    assert restored.created == len(objects)
    after = snapshot(planes.target.client, objects)
    assert {k: comparable(v) for k, v in after.items()} == {
        k: comparable(v) for k, v in before.items()
    }
    assert owner_problems(planes.target.client, [o for o in after.values() if o]) == []
