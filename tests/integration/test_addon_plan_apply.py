"""The add-on plan of every example and fixture cluster on a real API server.

What the plan renders (the add-on namespaces with their Pod Security labels, the chart
add-ons as HelmChartProxy objects on the management plane, the Lattice-rendered
cluster-autoscaler) and the Velero Schedules of the example LatticeBackupPolicy documents
pass a server-side dry-run apply, in the plan's install order.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from harness.crds import install_crds, shared_crd
from harness.kube import KubeClient

from lattice_pulumi.compile.backup import compile_backup_policy
from lattice_pulumi.compile.cluster import build_cluster_manifests
from lattice_pulumi.compile.cluster.objects import capi_namespace
from lattice_pulumi.compile.cluster.releases import addon_releases
from lattice_pulumi.spec import loader
from lattice_pulumi.spec.backup import LatticeBackupPolicy
from lattice_pulumi.spec.cluster import LatticeCluster
from tests.conftest import EXAMPLES, ROOT

pytestmark = pytest.mark.integration

FILES = [
    *sorted((EXAMPLES / "clusters").glob("*.yaml")),
    *sorted((ROOT / "tests" / "fixtures" / "clusters").rglob("*.yaml")),
]


def _cluster(path: Path) -> LatticeCluster:
    [cluster] = [r for r in loader.load(path) if isinstance(r, LatticeCluster)]
    return cluster


def _plan_objects(cluster: LatticeCluster) -> list[dict[str, Any]]:
    objects = build_cluster_manifests(cluster) + addon_releases(cluster)
    if cluster.spec.backups.enabled:
        objects += [
            compile_backup_policy(policy, cluster)
            for policy in loader.load(EXAMPLES / "backups")
            if isinstance(policy, LatticeBackupPolicy)
        ]
    return objects


def _namespace(name: str) -> dict[str, Any]:
    return {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": name}}


@pytest.fixture(scope="module")
def server(kube: KubeClient, crd_schemas: Any) -> Iterator[KubeClient]:
    everything = [obj for path in FILES for obj in _plan_objects(_cluster(path))]
    kinds = sorted({(o["apiVersion"].rpartition("/")[0], o["kind"]) for o in everything})
    custom = [(g, k) for g, k in kinds if "." in g and not g.endswith(".k8s.io")]
    custom += [(g, k) for g, k in kinds if g.endswith(".x-k8s.io") or g.startswith("gateway.")]
    assert ("addons.cluster.x-k8s.io", "HelmChartProxy") in custom
    install_crds(kube, [shared_crd(g, k) for g, k in sorted(set(custom))])
    yield kube


@pytest.mark.parametrize("path", [pytest.param(p, id=p.stem) for p in FILES])
def test_the_addon_plan_passes_a_dry_run_apply(server: KubeClient, path: Path) -> None:
    cluster = _cluster(path)
    objects = _plan_objects(cluster)
    # The namespaces the objects land in exist for real (a dry run cannot create them).
    for obj in objects:
        if obj["kind"] == "Namespace":
            server.apply(obj)
    for name in (capi_namespace(cluster), "velero"):
        server.apply(_namespace(name))
    problems = []
    for obj in objects:
        try:
            server.apply(obj, dry_run=True)
        except Exception as exc:  # collect every refusal, not only the first
            problems.append(f"{obj['kind']} {obj['metadata']['name']}: {exc}")
    assert problems == []
    assert sum(o["kind"] == "HelmChartProxy" for o in objects) >= 2  # cilium, cert-manager


def test_a_schedule_out_of_the_velero_schema_is_refused(server: KubeClient) -> None:
    # The server checks the Schedule's schema: a wrong field type is a refusal, not ignored.
    policy = next(
        p for p in loader.load(EXAMPLES / "backups") if isinstance(p, LatticeBackupPolicy)
    )
    schedule = compile_backup_policy(policy, _cluster(EXAMPLES / "clusters" / "production.yaml"))
    schedule["spec"]["template"]["snapshotVolumes"] = "yes"
    server.apply(_namespace("velero"))
    with pytest.raises(Exception, match="snapshotVolumes"):
        server.apply(schedule, dry_run=True)
