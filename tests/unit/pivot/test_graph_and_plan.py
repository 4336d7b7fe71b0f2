"""The graph builder and the planner, with no client: one table of object sets feeds both."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from lattice_pulumi.errors import PivotError
from lattice_pulumi.pivot import build_graph, plan_move
from lattice_pulumi.pivot.objects import (
    SOURCE_UID_ANNOTATION,
    ObjectRef,
    OwnerLink,
    copy_for_target,
)
from tests.pivot_builders import CAPI, INFRA, Object, ObjectSet, ident, workload_cluster


def _one_cluster() -> list[Object]:
    return workload_cluster(ObjectSet(), "dev", machines=2).objects


def _two_clusters() -> list[Object]:
    objects = ObjectSet()
    workload_cluster(objects, "prod", machines=1)
    workload_cluster(objects, "prod-eu", machines=1)
    return objects.objects


def _with_cluster_class() -> list[Object]:
    objects = ObjectSet()
    klass = objects.add(CAPI, "ClusterClass", "quick", spec={})
    objects.add(INFRA, "DockerClusterTemplate", "quick", owners=(klass,), spec={})
    for name in ("a", "b"):
        objects.add(
            CAPI,
            "Cluster",
            name,
            spec={"topology": {"classRef": {"name": "quick"}}},
            status={"initialization": {"infrastructureProvisioned": True}},
        )
    return objects.objects


DEV_GROUPS = [
    ["Cluster capi/dev"],
    [
        "DockerCluster capi/dev",
        "KubeadmControlPlane capi/dev-cp",
        "MachineDeployment capi/dev-md",
        "Secret capi/dev-ca",
        "Secret capi/dev-etcd",
        "Secret capi/dev-proxy",
        "Secret capi/dev-sa",
    ],
    ["MachineSet capi/dev-md-abc12", "Secret capi/dev-kubeconfig"],
    ["Machine capi/dev-md-abc12-0", "Machine capi/dev-md-abc12-1"],
    [
        "DockerMachine capi/dev-md-abc12-0",
        "DockerMachine capi/dev-md-abc12-1",
        "KubeadmConfig capi/dev-md-abc12-0",
        "KubeadmConfig capi/dev-md-abc12-1",
    ],
    ["Secret capi/dev-md-abc12-0", "Secret capi/dev-md-abc12-1"],
]

# name -> (objects, cluster to move, expected create groups as identity strings)
MOVE_CASES = [
    pytest.param(_one_cluster, None, DEV_GROUPS, id="one cluster, owners before dependents"),
    pytest.param(
        lambda: list(reversed(_one_cluster())),
        None,
        DEV_GROUPS,
        id="reverse discovery order gives the same plan",
    ),
    pytest.param(
        _two_clusters,
        "prod",
        [
            ["Cluster capi/prod"],
            [
                "DockerCluster capi/prod",
                "KubeadmControlPlane capi/prod-cp",
                "MachineDeployment capi/prod-md",
                "Secret capi/prod-ca",
                "Secret capi/prod-etcd",
                "Secret capi/prod-proxy",
                "Secret capi/prod-sa",
            ],
            ["MachineSet capi/prod-md-abc12", "Secret capi/prod-kubeconfig"],
            ["Machine capi/prod-md-abc12-0"],
            ["DockerMachine capi/prod-md-abc12-0", "KubeadmConfig capi/prod-md-abc12-0"],
            ["Secret capi/prod-md-abc12-0"],
        ],
        id="secrets named after 'prod-eu' stay with prod-eu (longest cluster name wins)",
    ),
    pytest.param(
        _with_cluster_class,
        "a",
        [["ClusterClass capi/quick"], ["Cluster capi/a", "DockerClusterTemplate capi/quick"]],
        id="a Cluster's ClusterClass moves first, the other Cluster stays",
    ),
]


def _groups(objects: list[Object], cluster: str | None) -> list[list[str]]:
    plan = plan_move(build_graph(objects), cluster=cluster)
    return [[str(item.ref) for item in group] for group in plan.create_groups]


@pytest.mark.parametrize(("objects", "cluster", "expected"), MOVE_CASES)
def test_create_groups_put_owners_first(
    objects: Callable[[], list[Object]], cluster: str | None, expected: list[list[str]]
) -> None:
    assert _groups(objects(), cluster) == expected


@pytest.mark.parametrize(("objects", "cluster", "expected"), MOVE_CASES)
def test_delete_groups_are_the_create_groups_backwards(
    objects: Callable[[], list[Object]], cluster: str | None, expected: list[list[str]]
) -> None:
    plan = plan_move(build_graph(objects()), cluster=cluster)
    deleted = [[str(i.ref) for i in group] for group in plan.delete_groups]
    kept = {str(i.ref) for i in plan.objects() if not i.delete}
    assert deleted == [[r for r in group if r not in kept] for group in reversed(expected)]


def test_a_shared_cluster_class_is_copied_but_never_deleted() -> None:
    plan = plan_move(build_graph(_with_cluster_class()), cluster="a")
    kept = sorted(str(i.ref) for i in plan.objects() if not i.delete)
    assert kept == ["ClusterClass capi/quick", "DockerClusterTemplate capi/quick"]


def test_an_unseen_owner_is_virtual_until_it_turns_up() -> None:
    objects = _one_cluster()
    machine = next(o for o in objects if ident(o) == "Machine capi/dev-md-abc12-0")
    graph = build_graph([machine])
    owner = graph.nodes["uid:MachineSet/dev-md-abc12"]
    assert owner.virtual and owner.ref == ObjectRef(CAPI, "MachineSet", "capi", "dev-md-abc12")
    graph.add_object(next(o for o in objects if o["kind"] == "MachineSet"))
    assert not graph.nodes["uid:MachineSet/dev-md-abc12"].virtual


def test_soft_owners_come_from_names_labels_and_topology() -> None:
    graph = build_graph(_one_cluster() + _with_cluster_class())
    soft = {
        str(n.ref): sorted(str(graph.nodes[u].ref) for u in n.soft_owners)
        for n in graph.nodes.values()
        if n.soft_owners
    }
    assert soft == {
        "Secret capi/dev-ca": ["Cluster capi/dev"],
        "Secret capi/dev-etcd": ["Cluster capi/dev"],
        "Secret capi/dev-proxy": ["Cluster capi/dev"],
        "Secret capi/dev-sa": ["Cluster capi/dev"],
        "Cluster capi/a": ["ClusterClass capi/quick"],
        "Cluster capi/b": ["ClusterClass capi/quick"],
    }


def test_every_outside_reference_and_cycle_is_named() -> None:
    objects = ObjectSet()
    cluster = objects.add(CAPI, "Cluster", "dev", spec={})
    other = ObjectSet("capi").add(CAPI, "MachineSet", "elsewhere", spec={})  # never discovered
    objects.add(CAPI, "Machine", "orphan", owners=(cluster, other), spec={})
    first = objects.add(INFRA, "DockerMachine", "first", owners=(cluster,), spec={})
    second = objects.add(INFRA, "DockerMachine", "second", owners=(first,), spec={})
    first["metadata"]["ownerReferences"].append(
        {
            "apiVersion": INFRA,
            "kind": "DockerMachine",
            "name": "second",
            "uid": "uid:DockerMachine/second",
        }
    )
    stranger = ObjectSet("capi")
    outside = stranger.add(CAPI, "Cluster", "unrelated", spec={})
    objects.add(INFRA, "DockerMachine", "shared", owners=(cluster, outside), spec={})
    assert second
    with pytest.raises(PivotError) as caught:
        plan_move(build_graph([*objects.objects, outside]), cluster="dev")
    assert str(caught.value) == (
        "pivot plan: 3 problem(s):\n"
        "  DockerMachine capi/shared: owner Cluster capi/unrelated is outside the moved set\n"
        "  Machine capi/orphan: owner MachineSet capi/elsewhere (uid uid:MachineSet/elsewhere)"
        " is not among the discovered objects\n"
        "  ownership cycle: DockerMachine capi/first -> DockerMachine capi/second"
        " -> DockerMachine capi/first"
    )


def test_a_missing_cluster_is_named() -> None:
    with pytest.raises(PivotError) as caught:
        plan_move(build_graph(_one_cluster()), cluster="nope", namespace="capi")
    assert str(caught.value) == "pivot plan Cluster capi/nope: Cluster capi/nope not found"


def test_target_copy_drops_server_fields_and_remaps_owners() -> None:
    machine = next(o for o in _one_cluster() if o["kind"] == "Machine")
    machine["metadata"].update(resourceVersion="7", creationTimestamp="t", generation=2)
    machine["metadata"]["annotations"] = {"clusterctl.cluster.x-k8s.io/delete-for-move": ""}
    owner = ObjectRef(CAPI, "MachineSet", "capi", "dev-md-abc12")
    body = copy_for_target(machine, [(owner, "new-uid", OwnerLink(True, True))], "old-uid")
    assert body["metadata"] == {
        "name": "dev-md-abc12-0",
        "namespace": "capi",
        "labels": {"cluster.x-k8s.io/cluster-name": "dev"},
        "annotations": {SOURCE_UID_ANNOTATION: "old-uid"},
        "ownerReferences": [
            {
                "apiVersion": CAPI,
                "kind": "MachineSet",
                "name": "dev-md-abc12",
                "uid": "new-uid",
                "controller": True,
                "blockOwnerDeletion": True,
            }
        ],
    }
    assert "status" not in body and machine["metadata"]["uid"] == "uid:Machine/dev-md-abc12-0"
