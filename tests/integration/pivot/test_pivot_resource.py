"""The ``Pivot`` dynamic resource under the real Pulumi engine: ``up`` moves a running
cluster's objects, ``destroy`` moves them back, kubeconfigs stay secret in the state."""

from __future__ import annotations

import json

import pulumi
import pytest
from conftest import Planes
from harness.pulumi_engine import PulumiEngine
from pivot_support import CLUSTER, comparable, owner_problems, running_cluster, seed, snapshot

from lattice_pulumi.components.pivot import Pivot

pytestmark = pytest.mark.integration


def _same(after: dict, before: dict) -> bool:
    return {k: comparable(v) for k, v in after.items() if v} == {
        k: comparable(v) for k, v in before.items()
    } and len([v for v in after.values() if v]) == len(before)


def test_up_moves_and_destroy_moves_back(
    planes: Planes, capi_namespace: str, pulumi_engine: PulumiEngine, tmp_path: object
) -> None:
    objects = running_cluster(capi_namespace)
    seed(planes.source.client, objects)
    before = snapshot(planes.source.client, objects)
    source_kubeconfig, target_kubeconfig = planes.source.kubeconfig, planes.target.kubeconfig

    def program() -> None:
        moved = Pivot(
            "dev-pivot",
            source_kubeconfig=source_kubeconfig,
            target_kubeconfig=target_kubeconfig,
            cluster=CLUSTER,
            namespace=capi_namespace,
        )
        pulumi.export("moved", moved.moved)

    stack = pulumi_engine.stack("pivot", "dev", program, work_dir=tmp_path)
    try:
        up = stack.up()
        assert up.outputs["moved"].value == len(objects)
        assert not any(snapshot(planes.source.client, objects).values())
        after = snapshot(planes.target.client, objects)
        assert _same(after, before)
        assert owner_problems(planes.target.client, [o for o in after.values() if o]) == []

        state = "".join(p.read_text() for p in pulumi_engine.state_dir.rglob("*.json"))
        key = json.loads(source_kubeconfig)["users"][0]["user"]["client-key-data"]
        assert key not in state and planes.target.server not in state

        assert stack.up().summary.resource_changes == {"same": 2}

        stack.destroy()
        assert not any(snapshot(planes.target.client, objects).values())
        assert _same(snapshot(planes.source.client, objects), before)
    finally:
        stack.workspace.remove_stack("dev")
