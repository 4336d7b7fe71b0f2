"""Shared helpers of the pivot integration tests: CRDs, a running cluster's objects, seeding,
snapshots and the object-by-object comparison.

The object sets are the cluster compiler's output for ``examples/clusters/docker-dev.yaml``
(Cluster, DockerCluster, KubeadmControlPlane, MachineDeployment, templates, health checks)
and for the seed's AWS ``production`` cluster (its ``AWSClusterStaticIdentity`` included),
owned by the Cluster as the controllers would make it, plus what a running cluster has:
a control-plane Machine, a MachineSet with worker Machines, their KubeadmConfigs,
infrastructure machines and bootstrap Secrets, and the cluster Secrets (kubeconfig, ca,
etcd, sa, proxy; the last three without owners, found by their names).
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
from tests.pivot_builders import (
    CAPI,
    INFRA,
    Object,
    ObjectSet,
    add_machine,
    ident,
    machine_spec,
    uid_of,
)

CLUSTER = "dev"
AWS_CLUSTER = "production"  # examples/clusters/production.yaml, the seed's AWS cluster
CAPA_NAMESPACE = "capa-system"
INFRA_GROUP = "infrastructure.cluster.x-k8s.io"
TEST_GROUP = "settings.pivot.lattice.dev"
AWS_INFRA = f"{INFRA_GROUP}/v1beta2"  # CAPA serves v1beta2 only

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
    (INFRA_GROUP, "DockerCluster"),
    (INFRA_GROUP, "DockerMachine"),
    (INFRA_GROUP, "DockerMachineTemplate"),
    (INFRA_GROUP, "AWSCluster"),
    (INFRA_GROUP, "AWSMachine"),
    (INFRA_GROUP, "AWSMachineTemplate"),
]
# CAPA labels its cluster-scoped identity CRDs so clusterctl moves them with what they own
# (config/crd/patches/label_in_awscluster*identities.yaml).
GLOBAL_KINDS = [
    (INFRA_GROUP, "AWSClusterStaticIdentity"),
    (INFRA_GROUP, "AWSClusterRoleIdentity"),
    (INFRA_GROUP, "AWSClusterControllerIdentity"),
]
MOVE_HIERARCHY = "clusterctl.cluster.x-k8s.io/move-hierarchy"
MOVE = "clusterctl.cluster.x-k8s.io/move"


def capi_crds() -> list[Object]:
    """The CRDs, labelled as provider manifests label them (so discovery finds them)."""
    crds = []
    for group, kind in [*KINDS, *GLOBAL_KINDS]:
        crd = shared_crd(group, kind)
        provider = "cluster-api" if group == "cluster.x-k8s.io" else group.split(".")[0]
        crd["metadata"]["labels"] = {
            "cluster.x-k8s.io/provider": provider,
            "clusterctl.cluster.x-k8s.io": "",  # what clusterctl itself looks for
        }
        if (group, kind) in GLOBAL_KINDS:
            crd["metadata"]["labels"][MOVE_HIERARCHY] = ""
        crds.append(crd)
    return crds


def labelled_crd(kind: str, label: str) -> Object:
    """A provider's own namespaced kind whose CRD says it moves by itself (``label``)."""
    plural = kind.lower() + "s"
    schema = {"type": "object", "x-kubernetes-preserve-unknown-fields": True}
    return {
        "apiVersion": "apiextensions.k8s.io/v1",
        "kind": "CustomResourceDefinition",
        "metadata": {
            "name": f"{plural}.{TEST_GROUP}",
            "labels": {
                "cluster.x-k8s.io/provider": "infrastructure-test",
                "clusterctl.cluster.x-k8s.io": "",
                label: "",
            },
        },
        "spec": {
            "group": TEST_GROUP,
            "names": {"kind": kind, "plural": plural, "singular": kind.lower()},
            "scope": "Namespaced",
            "versions": [
                {
                    "name": "v1",
                    "served": True,
                    "storage": True,
                    "schema": {"openAPIV3Schema": schema},
                }
            ],
        },
    }


def install_capi(client: KubeClient) -> None:
    """The Cluster API and CAPA CRDs, two labelled test kinds, clusterctl's provider
    inventory CRD and the inventory's record of CAPA in ``capa-system``."""
    inventory = shared_crd("clusterctl.cluster.x-k8s.io", "Provider")
    inventory["metadata"]["labels"] = {
        "clusterctl.cluster.x-k8s.io": "",
        "clusterctl.cluster.x-k8s.io/core": "inventory",
    }
    tests = [labelled_crd("ProviderBundle", MOVE_HIERARCHY), labelled_crd("ProviderSetting", MOVE)]
    install_crds(client, [*capi_crds(), *tests, inventory])
    client.apply({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": CAPA_NAMESPACE}})
    client.apply(
        {
            "apiVersion": "clusterctl.cluster.x-k8s.io/v1alpha3",
            "kind": "Provider",
            "metadata": {"name": "infrastructure-aws", "namespace": CAPA_NAMESPACE},
            "providerName": "aws",
            "type": "InfrastructureProvider",
            "version": "v2.9.0",
        }
    )


def _compiled(name: str) -> list[Object]:
    resources = loader.load(EXAMPLES / "clusters")
    providers = {r.name: r for r in resources if isinstance(r, CloudProvider)}
    cluster = next(r for r in resources if isinstance(r, LatticeCluster) and r.name == name)
    objects = compile_cluster(
        cluster, providers[cluster.spec.provider_ref], ClusterCompileContext()
    )
    return [copy.deepcopy(o) for o in objects if o["kind"] != "Namespace"]


def running_cluster(namespace: str, workers: int = 2, *, with_class: bool = False) -> list[Object]:
    """Every object of the running ``dev`` cluster in ``namespace``, with placeholder UIDs;
    ``with_class``: its Cluster uses a ClusterClass (moved first, deleted last)."""
    objects = _running(
        ObjectSet(namespace), _compiled(CLUSTER), CLUSTER, (INFRA, "DockerMachine"), workers
    )
    if with_class:
        _use_class(ObjectSet(namespace), objects)
    return objects


def _use_class(objects: ObjectSet, cluster_objects: list[Object]) -> None:
    ref = {"apiVersion": INFRA, "kind": "DockerMachineTemplate", "name": f"{CLUSTER}-class"}
    klass = objects.add(
        CAPI,
        "ClusterClass",
        f"{CLUSTER}-class",
        spec={"infrastructure": {"templateRef": ref}, "controlPlane": {"templateRef": ref}},
    )
    objects.add(
        INFRA,
        "DockerMachineTemplate",
        f"{CLUSTER}-class",
        owners=(klass,),
        spec={"template": {"spec": {}}},
    )
    cluster = next(o for o in cluster_objects if o["kind"] == "Cluster")
    cluster["spec"]["topology"] = {"classRef": {"name": f"{CLUSTER}-class"}, "version": "v1.34.0"}
    cluster_objects[:0] = objects.objects


def aws_clusters(namespace: str, workers: int = 1) -> list[Object]:
    """The seed's ``production`` AWS cluster as the compiler emits it, running (Machines,
    AWSMachines, KubeadmConfigs, Secrets), and a second Cluster ``staging`` sharing its
    ``AWSClusterStaticIdentity``, whose credentials Secret in ``capa-system`` the identity
    owns (as CAPA makes it). Global names carry ``namespace``: the planes live all session."""
    compiled = _compiled(AWS_CLUSTER)
    identity = next(o for o in compiled if o["kind"] == "AWSClusterStaticIdentity")
    compiled.remove(identity)
    identity["metadata"]["name"] = f"lattice-{namespace}"
    identity["metadata"]["uid"] = f"uid:identity/{namespace}"
    identity["spec"]["secretRef"] = f"aws-{namespace}"
    identity["spec"]["allowedNamespaces"] = {"list": [namespace]}
    ref = {"kind": identity["kind"], "name": identity["metadata"]["name"]}
    for obj in compiled:
        if obj["kind"] == "AWSCluster":
            obj["spec"]["identityRef"] = ref
    objects = _running(
        ObjectSet(namespace), compiled, AWS_CLUSTER, (AWS_INFRA, "AWSMachine"), workers
    )
    staging = ObjectSet(namespace)
    cluster = staging.add(
        CAPI,
        "Cluster",
        "staging",
        labels={"cluster.x-k8s.io/cluster-name": "staging"},
        spec={
            "infrastructureRef": {"apiGroup": INFRA_GROUP, "kind": "AWSCluster", "name": "staging"}
        },
        status={"initialization": {"infrastructureProvisioned": True}},
    )
    staging.add(
        AWS_INFRA,
        "AWSCluster",
        "staging",
        owners=(cluster,),
        spec={"region": "us-west-2", "identityRef": ref},
    )
    secret = ObjectSet(CAPA_NAMESPACE).secret(f"aws-{namespace}")
    secret["metadata"]["ownerReferences"] = [
        {
            "apiVersion": identity["apiVersion"],
            "kind": identity["kind"],
            "name": identity["metadata"]["name"],
            "uid": identity["metadata"]["uid"],
        }
    ]
    return [identity, *objects, *staging.objects, secret]


def labelled_objects(namespace: str) -> list[Object]:
    """Objects of the labelled test kinds, and one labelled itself, each owning a ConfigMap."""
    objects = ObjectSet(namespace)
    bundle = objects.add(f"{TEST_GROUP}/v1", "ProviderBundle", "bundle", spec={"a": 1})
    objects.add("v1", "ConfigMap", "bundle-part", owners=(bundle,), data={"a": "b"})
    objects.add(f"{TEST_GROUP}/v1", "ProviderSetting", "setting", spec={"b": 2})
    tree = objects.add("v1", "ConfigMap", "tree", labels={MOVE_HIERARCHY: ""}, data={"c": "d"})
    objects.add("v1", "ConfigMap", "tree-leaf", owners=(tree,), data={"e": "f"})
    return objects.objects


def _running(
    objects: ObjectSet,
    compiled: list[Object],
    name: str,
    machine: tuple[str, str],
    workers: int,
) -> list[Object]:
    namespace = objects.namespace
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
    label = {"cluster.x-k8s.io/cluster-name": name}
    control_plane = by_kind["KubeadmControlPlane"]
    machine_set = objects.add(
        CAPI,
        "MachineSet",
        f"{name}-default-abc12",
        owners=(by_kind["MachineDeployment"],),
        labels=label,
        spec={
            "clusterName": name,
            "replicas": workers,
            "selector": {"matchLabels": {"pool": "default"}},
            "template": {
                "metadata": {"labels": {"pool": "default"}},
                "spec": machine_spec(name, f"{name}-default", machine[1]),
            },
        },
    )
    infra_spec = {"instanceType": "m6i.xlarge"} if machine[1] == "AWSMachine" else None
    for index, owner in enumerate([control_plane, *([machine_set] * workers)]):
        machine_name = (
            f"{name}-default-abc12-{index - 1}" if index else f"{name}-control-plane-x1a2b"
        )
        add_machine(objects, name, machine_name, owner, label, machine, infra_spec)
    objects.secret(f"{name}-kubeconfig", owners=(control_plane,), **label)
    objects.secret(f"{name}-ca", owners=(control_plane,), **label)
    for purpose in ("etcd", "sa", "proxy"):
        objects.secret(f"{name}-{purpose}", **label)
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
    for name in sorted({o["metadata"].get("namespace") or "" for o in pending} - {""}):
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
            o["apiVersion"], o["kind"], o["metadata"]["name"], o["metadata"].get("namespace")
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
            owner = client.find(  # the namespace is ignored for a cluster-scoped owner
                ref["apiVersion"], ref["kind"], ref["name"], obj["metadata"].get("namespace")
            )
            if owner is None or owner["metadata"]["uid"] != ref["uid"]:
                problems.append(f"{ident(obj)} -> {ref['kind']} {ref['name']}")
    return problems
