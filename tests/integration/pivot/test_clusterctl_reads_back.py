"""The real ``clusterctl`` (v1.14.2) reads back what our pivot moved: its ``move --dry-run``
from the target sees the same objects, in the same owner-first groups, as our plan."""

from __future__ import annotations

import asyncio
import os
import re
import subprocess
from pathlib import Path

import pytest
from conftest import Planes
from harness.tools import require_tools
from pivot_support import CLUSTER, running_cluster, seed

from lattice_pulumi.pivot import MoveOptions
from lattice_pulumi.pivot.session import move_clusters

pytestmark = pytest.mark.integration

_CREATING = re.compile(r'Creating (\w+)="([^"]+)" Namespace="([^"]*)"')


def test_clusterctl_dry_run_sees_our_graph(
    planes: Planes, capi_namespace: str, tmp_path: Path
) -> None:
    binary = require_tools("clusterctl")["clusterctl"].path()
    seed(planes.source.client, running_cluster(capi_namespace))
    options = MoveOptions(cluster=CLUSTER, namespace=capi_namespace)
    asyncio.run(
        move_clusters(planes.source.kubeconfig_path, planes.target.kubeconfig_path, options)
    )
    back = asyncio.run(
        move_clusters(
            planes.target.kubeconfig_path,
            planes.source.kubeconfig_path,
            MoveOptions(namespace=capi_namespace, dry_run=True),
        )
    )
    assert back.plan is not None
    group_of = {
        str(item.ref): index
        for index, group in enumerate(back.plan.create_groups)
        for item in group
    }

    done = subprocess.run(
        [
            str(binary),
            "move",
            "--dry-run",
            "-v",
            "5",
            "--kubeconfig",
            str(planes.target.kubeconfig_path),
            "--to-kubeconfig",
            str(planes.source.kubeconfig_path),
            "--namespace",
            capi_namespace,
        ],
        env={**os.environ, "HOME": str(tmp_path), "CLUSTERCTL_DISABLE_VERSIONCHECK": "true"},
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    theirs = [
        f"{kind} {namespace}/{name}"
        for kind, name, namespace in _CREATING.findall(done.stdout + done.stderr)
    ]
    assert sorted(theirs) == sorted(group_of)
    order = [group_of[ref] for ref in theirs]
    assert order == sorted(order)  # clusterctl's groups are ours, owners first
