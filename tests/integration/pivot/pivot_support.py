"""Shared helpers of the pivot integration tests: CRDs, a running cluster's objects, seeding,
snapshots and the object-by-object comparison.

The object set is the cluster compiler's output for ``examples/clusters/docker-dev.yaml``
(Cluster, DockerCluster, KubeadmControlPlane, MachineDeployment, templates, health checks)
owned by the Cluster as the controllers would make it, plus what a running cluster has:
a control-plane Machine, a MachineSet with worker Machines, their KubeadmConfigs,
DockerMachines and bootstrap Secrets, and the cluster Secrets (kubeconfig, ca, etcd, sa,
proxy; the last three without owners, found by their names).
"""

from __future__ import annotations

import copy
from collections.abc import Iterable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from harness.crds import install_crds, shared_crd
from harness.kube import KubeClient

from lattice_pulumi.compile.cluster import compile_cluster
from lattice_pulumi.compile.cluster.context import ClusterCompileContext
from lattice_pulumi.pivot import SOURCE_UID_ANNOTATION
from lattice_pulumi.spec import loader
from lattice_pulumi.spec.cluster import LatticeCluster
from lattice_pulumi.spec.providers import CloudProvider
from tests.conftest import EXAMPLES
from tests.pivot_builders import BOOTSTRAP, CAPI, INFRA, Object, ObjectSet, ident, uid_of

CLUSTER = "dev"

KINDS = [
    ("cluster.x-k8s.io", "Cluster"),
    ("cluster.x-k8s.io", "ClusterClass"),
    ("cluster.x-k8s.io", "Machine"),
    ("cluster.x-k8s.io", "MachineSet"),
    ("cluster.x-k8s.io", "MachineDeployment"),
    ("cluster.x-k8s.io", "MachineHealthCheck"),
    ("bootstrap.cluster.x-k8s.io", "KubeadmConfig"),
    ("bootstrap.cluster.x-k8s.io", "KubeadmConfigTemplate"),
    ("controlplane.cluster.x-k8s.io", "KubeadmControlPlane"),
    ("infrastructure.cluster.x-k8s.io", "DockerCluster"),
    ("infrastructure.cluster.x-k8s.io", "DockerMachine"),
    ("infrastructure.cluster.x-k8s.io", "DockerMachineTemplate"),
]


def capi_crds() -> list[Object]:
    """The CRDs, labelled as provider manifests label them (so discovery finds them)."""
    crds = []
    for group, kind in KINDS:
        crd = shared_crd(group, kind)
        provider = "cluster-api" if group == "cluster.x-k8s.io" else group.split(".")[0]
        crd["metadata"]["labels"] = {
            "cluster.x-k8s.io/provider": provider,
            "clusterctl.cluster.x-k8s.io": "",  # what clusterctl itself looks for
        }
        crds.append(crd)
    return crds


def install_capi(client: KubeClient) -> None:
    """The Cluster API CRDs and clusterctl's provider inventory CRD."""
    inventory = shared_crd("clusterctl.cluster.x-k8s.io", "Provider")
    inventory["metadata"]["labels"] = {
        "clusterctl.cluster.x-k8s.io": "",
        "clusterctl.cluster.x-k8s.io/core": "inventory",
    }
    install_crds(client, [*capi_crds(), inventory])


def _compiled_dev() -> list[Object]:
    resources = loader.load(EXAMPLES / "clusters")
    providers = {r.name: r for r in resources if isinstance(r, CloudProvider)}
    cluster = next(r for r in resources if isinstance(r, LatticeCluster) and r.name == CLUSTER)
    objects = compile_cluster(
        cluster, providers[cluster.spec.provider_ref], ClusterCompileContext()
    )
    return [o for o in objects if o["kind"] != "Namespace"]


def running_cluster(namespace: str, workers: int = 2) -> list[Object]:
    """Every object of the running ``dev`` cluster in ``namespace``, with placeholder UIDs."""
    objects = ObjectSet(namespace)
    compiled = [copy.deepcopy(o) for o in _compiled_dev()]
    by_kind: dict[str, Object] = {}
    for obj in compiled:
        obj["metadata"]["namespace"] = namespace
        obj["metadata"]["uid"] = f"uid:{obj['kind']}/{obj['metadata']['name']}"
        by_kind.setdefault(obj["kind"], obj)
    cluster = by_kind["Cluster"]
    cluster["status"] = {
        "initialization": {"infrastructureProvisioned": True, "controlPlaneInitialized": True}
    }
    for obj in compiled:
        if obj is not cluster:
            obj["metadata"]["ownerReferences"] = [_owner(cluster)]
    objects.objects.extend(compiled)
    label = {"cluster.x-k8s.io/cluster-name": CLUSTER}
    control_plane = by_kind["KubeadmControlPlane"]
    machine_set = objects.add(
        CAPI,
        "MachineSet",
        "dev-default-abc12",
        owners=(by_kind["MachineDeployment"],),
        labels=label,
        spec={
            "clusterName": CLUSTER,
            "replicas": workers,
            "selector": {"matchLabels": {"pool": "default"}},
            "template": {
                "metadata": {"labels": {"pool": "default"}},
                "spec": _machine_spec("dev-default"),
            },
        },
    )
    _machine(objects, "dev-control-plane-x1a2b", control_plane, label)
    for index in range(workers):
        _machine(objects, f"dev-default-abc12-{index}", machine_set, label)
    objects.secret(f"{CLUSTER}-kubeconfig", owners=(control_plane,), **label)
    objects.secret(f"{CLUSTER}-ca", owners=(control_plane,), **label)
    for purpose in ("etcd", "sa", "proxy"):
        objects.secret(f"{CLUSTER}-{purpose}", **label)
    return objects.objects


def _owner(obj: Object) -> Object:
    return {
        "apiVersion": obj["apiVersion"],
        "kind": obj["kind"],
        "name": obj["metadata"]["name"],
        "uid": uid_of(obj),
        "controller": True,
        "blockOwnerDeletion": True,
    }


def _machine_spec(name: str) -> Object:
    return {
        "clusterName": CLUSTER,
        "bootstrap": {
            "configRef": {
                "apiGroup": "bootstrap.cluster.x-k8s.io",
                "kind": "KubeadmConfig",
                "name": name,
            }
        },
        "infrastructureRef": {
            "apiGroup": "infrastructure.cluster.x-k8s.io",
            "kind": "DockerMachine",
            "name": name,
        },
    }


def _machine(objects: ObjectSet, name: str, owner: Object, label: dict[str, str]) -> None:
    machine = objects.add(
        CAPI,
        "Machine",
        name,
        owners=(owner,),
        labels=label,
        spec=_machine_spec(name),
        status={"nodeRef": {"name": name}},
    )
    config = objects.add(
        BOOTSTRAP,
        "KubeadmConfig",
        name,
        owners=(machine,),
        labels=label,
        spec={"format": "cloud-config"},
    )
    objects.add(INFRA, "DockerMachine", name, owners=(machine,), labels=label, spec={})
    objects.secret(name, owners=(config,), **label)


def _seed_one(client: KubeClient, obj: Object, real: dict[str, str]) -> tuple[str, str]:
    placeholder = obj["metadata"].pop("uid")
    for ref in obj["metadata"].get("ownerReferences", []):
        ref["uid"] = real[ref["uid"]]
    status = obj.pop("status", None)
    made = client.create(obj)
    if status:
        client.request(
            "PATCH",
            client._object_path(obj) + "/status",
            {"status": status},
            content_type="application/merge-patch+json",
        )
    return placeholder, made["metadata"]["uid"]


def seed(client: KubeClient, objects: Iterable[Object]) -> dict[str, str]:
    """Create ``objects`` owners first with real UIDs and their status; placeholder -> UID."""
    pending = [copy.deepcopy(o) for o in objects]
    real: dict[str, str] = {}
    for name in sorted({o["metadata"]["namespace"] for o in pending}):
        client.apply({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": name}})
    with ThreadPoolExecutor(max_workers=8) as pool:
        while pending:
            ready = [
                o
                for o in pending
                if all(r["uid"] in real for r in o["metadata"].get("ownerReferences", []))
            ]
            assert ready, f"seed order stuck at {[ident(o) for o in pending]}"
            real.update(pool.map(lambda o: _seed_one(client, o, real), ready))
            done = {id(o) for o in ready}
            pending = [o for o in pending if id(o) not in done]
    return real


def snapshot(client: KubeClient, objects: Iterable[Object]) -> dict[str, Object | None]:
    """The current state of each object (None when absent), by identity."""
    return {
        ident(o): client.find(
            o["apiVersion"], o["kind"], o["metadata"]["name"], o["metadata"]["namespace"]
        )
        for o in objects
    }


def comparable(obj: dict[str, Any]) -> dict[str, Any]:
    """What must survive a move: spec, labels, annotations (ours removed), data, status."""
    meta = obj["metadata"]
    annotations = {
        k: v
        for k, v in (meta.get("annotations") or {}).items()
        if k not in (SOURCE_UID_ANNOTATION, "clusterctl.cluster.x-k8s.io/delete-for-move")
    }
    spec = copy.deepcopy(obj.get("spec"))
    if obj["kind"] == "Cluster" and isinstance(spec, dict):
        spec.pop("paused", None)
    return {
        "spec": spec,
        "labels": meta.get("labels"),
        "annotations": annotations,
        "data": obj.get("data"),
        "status": obj.get("status"),
    }


def owner_problems(client: KubeClient, objects: Iterable[Object]) -> list[str]:
    """Every ownerReference whose UID is not the UID of the named owner in this cluster."""
    problems = []
    for obj in objects:
        for ref in obj["metadata"].get("ownerReferences", []):
            owner = client.find(
                ref["apiVersion"], ref["kind"], ref["name"], obj["metadata"]["namespace"]
            )
            if owner is None or owner["metadata"]["uid"] != ref["uid"]:
                problems.append(f"{ident(obj)} -> {ref['kind']} {ref['name']}")
    return problems
