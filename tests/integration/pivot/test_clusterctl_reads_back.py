"""The real ``clusterctl`` (v1.14.2) reads back what our pivot moved: its ``move --dry-run``
from the target sees the same objects, in the same owner-first groups, as our plan.

The namespace holds the ``dev`` Docker cluster, the AWS ``production`` cluster with a
second Cluster sharing its cluster-scoped ``AWSClusterStaticIdentity`` (whose Secret in
``capa-system`` it owns; clusterctl finds it through the provider inventory), and objects
of kinds whose CRDs are labelled ``move``/``move-hierarchy``: clusterctl's graph has the
globals and the labelled objects exactly where ours has them."""

from __future__ import annotations

import asyncio
import os
import re
import subprocess
from pathlib import Path

import pytest
from conftest import Planes
from harness.tools import require_tools
from pivot_support import aws_clusters, labelled_objects, running_cluster, seed

from lattice_pulumi.pivot import MoveOptions
from lattice_pulumi.pivot.session import move_clusters

pytestmark = pytest.mark.integration

_CREATING = re.compile(r'Creating (\w+)="([^"]+)" Namespace="([^"]*)"')


def test_clusterctl_dry_run_sees_our_graph(
    planes: Planes, capi_namespace: str, tmp_path: Path
) -> None:
    binary = require_tools("clusterctl")["clusterctl"].path()
    objects = [
        *running_cluster(capi_namespace),
        *aws_clusters(capi_namespace),
        *labelled_objects(capi_namespace),
    ]
    seed(planes.source.client, objects)
    options = MoveOptions(namespace=capi_namespace)
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
        f"{kind} {namespace}/{name}" if namespace else f"{kind} {name}"
        for kind, name, namespace in _CREATING.findall(done.stdout + done.stderr)
    ]
    assert sorted(theirs) == sorted(group_of)
    shared = {str(item.ref) for item in back.plan.objects() if item.shared}
    assert f"AWSClusterStaticIdentity lattice-{capi_namespace}" in shared
    assert f"Secret capa-system/aws-{capi_namespace}" in shared
    assert f"ProviderSetting {capi_namespace}/setting" in group_of
    order = [group_of[ref] for ref in theirs]
    assert order == sorted(order)  # clusterctl's groups are ours, owners first
