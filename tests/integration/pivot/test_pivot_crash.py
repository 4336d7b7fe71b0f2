"""Crash injection: the move process is killed at every step boundary and a rerun (the
``lattice pivot`` command) completes it with nothing lost and nothing duplicated.

The Cluster uses a ClusterClass (created first, deleted last), and a Secret changes
between discovery and the pause: the target must get the changed data. ``delete:N:done``
for the group holding the Cluster is the boundary where the source still holds the
ClusterClass but no Cluster any more (the rerun must still delete the class and resume it
in the target).
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import Planes
from pivot_crash_runner import CHANGED, CRASH_EXIT
from pivot_support import CLUSTER, comparable, owner_problems, running_cluster, seed, snapshot

from lattice_pulumi.pivot import build_graph, plan_move
from lattice_pulumi.pivot.objects import PAUSED_ANNOTATION

pytestmark = pytest.mark.integration

RUNNER = Path(__file__).with_name("pivot_crash_runner.py")
ROOT = Path(__file__).resolve().parents[3]
_PLAN = plan_move(build_graph(running_cluster("x", with_class=True)), cluster=CLUSTER)
_GROUPS = len(_PLAN.create_groups)
_CLUSTER_DELETED = next(  # the delete group holding the Cluster: only the class is left after
    i for i, group in enumerate(_PLAN.delete_groups) for o in group if o.ref.kind == "Cluster"
)
CHANGED_SECRET = f"{CLUSTER}-sa"
CRASH_POINTS = [
    "discover",
    "preflight",
    "pause",
    "reread",
    *(f"create:{i}" for i in range(_GROUPS)),
    f"create:{_GROUPS - 1}:done",
    *(f"delete:{i}" for i in range(_GROUPS)),
    f"delete:{_CLUSTER_DELETED}:done",
]


def _env(**extra: str) -> dict[str, str]:
    return {**os.environ, "PYTHONPATH": str(ROOT), **extra}


@pytest.mark.parametrize("crash_at", CRASH_POINTS)
def test_a_killed_move_completes_on_rerun(
    planes: Planes, capi_namespace: str, crash_at: str
) -> None:
    objects = running_cluster(capi_namespace, with_class=True)
    seed(planes.source.client, objects)
    before = snapshot(planes.source.client, objects)
    changed = before[f"Secret {capi_namespace}/{CHANGED_SECRET}"]
    assert changed is not None and changed["data"] != CHANGED
    changed["data"] = CHANGED  # what the runner writes between discovery and pause
    source, target = str(planes.source.kubeconfig_path), str(planes.target.kubeconfig_path)

    killed = subprocess.run(
        [sys.executable, str(RUNNER), source, target, CLUSTER, capi_namespace],
        env=_env(PIVOT_CRASH_AT=crash_at, PIVOT_CHANGE_SECRET=CHANGED_SECRET),
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert killed.returncode == CRASH_EXIT, killed.stderr

    rerun = subprocess.run(
        [
            sys.executable,
            "-m",
            "lattice_pulumi.cli.main",
            "pivot",
            "--from",
            source,
            "--to",
            target,
            "--cluster",
            CLUSTER,
            "--namespace",
            capi_namespace,
        ],
        env=_env(),
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert rerun.returncode == 0, rerun.stderr

    assert snapshot(planes.source.client, objects) == dict.fromkeys(before)  # none left behind
    after = snapshot(planes.target.client, objects)
    assert {k: comparable(v) for k, v in after.items()} == {
        k: comparable(v) for k, v in before.items()
    }  # none lost, each exactly as it was
    assert owner_problems(planes.target.client, [o for o in after.values() if o]) == []
    cluster = next(o for k, o in after.items() if k.startswith("Cluster "))
    assert "paused" not in cluster["spec"]
    klass = next(o for k, o in after.items() if k.startswith("ClusterClass "))
    assert PAUSED_ANNOTATION not in (klass["metadata"].get("annotations") or {})
