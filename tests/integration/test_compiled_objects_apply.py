"""Everything the compilers produce for the bundled examples is accepted by a real API server.

Services (with their mesh half), the mesh baseline, the clusters' Cluster API objects and
the Lattice CRDs: server-side apply with dry run, then for real, then once more with no
change (the resourceVersion of every object stays put).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from harness.crds import install_crds, shared_crd
from harness.kube import KubeClient

from lattice_pulumi.compile.cluster import compile_cluster
from lattice_pulumi.compile.cluster.context import ClusterCompileContext
from lattice_pulumi.compile.context import ClusterInfo, CompileContext
from lattice_pulumi.compile.mesh import compile_mesh_baseline
from lattice_pulumi.compile.service import compile_service
from lattice_pulumi.policy import CedarAuthorizer
from lattice_pulumi.policy.sources import sources_in
from lattice_pulumi.spec import crds, loader
from lattice_pulumi.spec.cluster import LatticeCluster
from lattice_pulumi.spec.providers import CloudProvider
from lattice_pulumi.spec.provisioners import builtin_provisioners
from lattice_pulumi.spec.service import LatticeService
from lattice_pulumi.spec.yamlsource import parse_documents
from tests.conftest import EXAMPLES
from tests.manifests import NO_SCHEMA

pytestmark = pytest.mark.integration

CLUSTER = ClusterInfo(name="production", provider="aws", monitoring=True, backups=True)


def _service_objects() -> list[dict[str, Any]]:
    resources = loader.load(EXAMPLES)
    authorizer = CedarAuthorizer()
    authorizer.reload(sources_in(resources))
    context = CompileContext.of(
        list(resources), cluster=CLUSTER, authorizer=authorizer, provisioners=builtin_provisioners()
    )
    objects: list[dict[str, Any]] = []
    for resource in resources:
        if isinstance(resource, LatticeService):
            objects += compile_service(resource, context)
    return objects


def _cluster_objects() -> list[dict[str, Any]]:
    resources = loader.load(EXAMPLES / "clusters")
    providers = {r.name: r for r in resources if isinstance(r, CloudProvider)}
    objects: list[dict[str, Any]] = []
    for cluster in resources:
        if isinstance(cluster, LatticeCluster):
            provider = providers[cluster.spec.provider_ref]
            objects += compile_cluster(cluster, provider, ClusterCompileContext())
    return objects


def _crds_for(objects: list[dict[str, Any]]) -> list[dict[str, Any]]:
    kinds = sorted({(o["apiVersion"].rpartition("/")[0], o["kind"]) for o in objects})
    wanted = [
        (group, kind)
        for group, kind in kinds
        if "." in group
        and not group.endswith(("rbac.authorization.k8s.io", "apiextensions.k8s.io"))
        and group != "networking.k8s.io"
    ]
    return [shared_crd(group, kind) for group, kind in wanted]


def _namespaces(objects: list[dict[str, Any]]) -> list[dict[str, Any]]:
    names = sorted({o["metadata"]["namespace"] for o in objects if o["metadata"].get("namespace")})
    return [{"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": n}} for n in names]


def _has_no_schema(obj: dict[str, Any]) -> bool:
    """RKE2 kinds: the catalogue has no schema for them, so no CRD can be made here."""
    return (obj["apiVersion"].rpartition("/")[0], obj["kind"]) in NO_SCHEMA


@pytest.fixture(scope="module")
def compiled(kube: KubeClient, crd_schemas: Any) -> Iterator[list[dict[str, Any]]]:
    everything = [*_service_objects(), *compile_mesh_baseline(CLUSTER), *_cluster_objects()]
    objects = [o for o in everything if not _has_no_schema(o)]
    assert len(objects) < len(everything)  # the RKE2 examples are there, only skipped
    install_crds(kube, [*_crds_for(objects), *crds.build_crds()])
    namespaced = [o for o in objects if o["kind"] != "Namespace"]
    for namespace in _namespaces(namespaced):
        kube.apply(namespace)
    yield [o for o in objects if o["kind"] != "Namespace"] + [
        o for o in objects if o["kind"] == "Namespace"
    ]


def _ident(obj: dict[str, Any]) -> str:
    meta = obj["metadata"]
    return f"{obj['kind']} {meta.get('namespace', '')}/{meta['name']}"


def test_every_object_passes_a_dry_run_apply(
    kube: KubeClient, compiled: list[dict[str, Any]]
) -> None:
    problems = []
    for obj in compiled:
        try:
            kube.apply(obj, dry_run=True)
        except Exception as exc:  # collect every refusal, not only the first
            problems.append(f"{_ident(obj)}: {exc}")
    assert problems == []


def test_apply_then_reapply_changes_nothing(
    kube: KubeClient, compiled: list[dict[str, Any]]
) -> None:
    # The generation counts changes to what we own (spec and friends); controllers writing
    # status (the Deployment controller runs here) move the resourceVersion, not it.
    first = {_ident(o): kube.apply(o)["metadata"].get("generation") for o in compiled}
    second = {_ident(o): kube.apply(o)["metadata"].get("generation") for o in compiled}
    assert second == first
    assert len(first) == len(compiled)


def test_lattice_crds_accept_every_example(
    kube: KubeClient, compiled: list[dict[str, Any]]
) -> None:
    documents = [
        doc.data
        for path in sorted(EXAMPLES.rglob("*.yaml"))
        if not path.name.startswith("Pulumi")
        for doc in parse_documents(path.read_text(), str(path))[0]
        if doc.data.get("apiVersion") == "lattice.dev/v1alpha1"
    ]
    for namespace in _namespaces(documents):
        kube.apply(namespace)
    for doc in documents:
        kube.apply(doc, dry_run=True)
    assert len(documents) >= 20
