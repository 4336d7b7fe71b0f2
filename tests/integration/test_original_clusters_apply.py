"""Clusters written in the original Lattice's format, on a real API server: their compiled
Cluster API objects pass a server-side dry-run apply, and their canonical documents
(``lattice validate --canonical``) are accepted by the generated LatticeCluster CRD."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from harness.crds import install_crds, shared_crd
from harness.kube import KubeClient

from lattice_pulumi.compile.cluster import compile_cluster
from lattice_pulumi.compile.cluster.context import ClusterCompileContext
from lattice_pulumi.spec import crds, loader
from lattice_pulumi.spec.base import dump_canonical
from lattice_pulumi.spec.cluster import LatticeCluster
from lattice_pulumi.spec.providers import CloudProvider
from tests.conftest import ROOT
from tests.manifests import NO_SCHEMA

pytestmark = pytest.mark.integration

FIXTURES = ROOT / "tests" / "fixtures" / "clusters"
FILES = [FIXTURES / "seed-production.yaml", *sorted((FIXTURES / "original").glob("*.yaml"))]


def _compiled(path: Path) -> list[dict[str, Any]]:
    resources = loader.load(path)
    [cluster] = [r for r in resources if isinstance(r, LatticeCluster)]
    [cloud] = [r for r in resources if isinstance(r, CloudProvider)]
    return compile_cluster(cluster, cloud, ClusterCompileContext())


def _schema_kinds(objects: list[dict[str, Any]]) -> list[tuple[str, str]]:
    kinds = {(o["apiVersion"].rpartition("/")[0], o["kind"]) for o in objects}
    return sorted(k for k in kinds if "." in k[0] and k not in NO_SCHEMA)


@pytest.fixture(scope="module")
def server(kube: KubeClient, crd_schemas: Any) -> Iterator[KubeClient]:
    everything = [obj for path in FILES for obj in _compiled(path)]
    install_crds(kube, [*(shared_crd(g, k) for g, k in _schema_kinds(everything)),
                        *crds.build_crds()])  # fmt: skip
    yield kube


@pytest.mark.parametrize("path", [pytest.param(p, id=p.stem) for p in FILES])
def test_compiled_objects_pass_a_dry_run_apply(server: KubeClient, path: Path) -> None:
    objects = [
        o for o in _compiled(path)
        if (o["apiVersion"].rpartition("/")[0], o["kind"]) not in NO_SCHEMA
    ]  # fmt: skip
    for namespace in (o for o in objects if o["kind"] == "Namespace"):
        server.apply(namespace)
    problems = []
    for obj in (o for o in objects if o["kind"] != "Namespace"):
        try:
            server.apply(obj, dry_run=True)
        except Exception as exc:  # collect every refusal, not only the first
            problems.append(f"{obj['kind']} {obj['metadata']['name']}: {exc}")
    assert problems == []


@pytest.mark.parametrize("path", [pytest.param(p, id=p.stem) for p in FILES])
def test_the_lattice_crd_accepts_the_canonical_document(server: KubeClient, path: Path) -> None:
    for resource in loader.load(path):
        document = dump_canonical(resource)
        namespace = document["metadata"].get("namespace")
        if namespace:
            server.apply({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": namespace}})
        server.apply(document, dry_run=True)
