"""Objects that move on their own (labels on them or their CRD) and global objects shared by
Clusters (cluster-scoped identities and their Secrets): which a plan takes, and how."""

from __future__ import annotations

import pytest

from lattice_pulumi.pivot import build_graph, plan_move
from lattice_pulumi.pivot.kinds import KindInfo
from lattice_pulumi.pivot.plan import plan_leftovers
from tests.pivot_builders import CAPI, INFRA, Object, ObjectSet, workload_cluster

TEST_GROUP = "settings.example.dev"
KINDS = [
    KindInfo(TEST_GROUP, "v1", "ProviderBundle", "providerbundles", move_hierarchy=True),
    KindInfo(TEST_GROUP, "v1", "ProviderSetting", "providersettings", move=True),
    KindInfo(
        INFRA.split("/")[0],
        "v1beta2",
        "AWSClusterStaticIdentity",
        "x",
        False,
        False,
        move_hierarchy=True,
    ),
    KindInfo(
        INFRA.split("/")[0],
        "v1beta2",
        "AWSClusterRoleIdentity",
        "y",
        False,
        False,
        move_hierarchy=True,
    ),
]


def _labelled(extra_cluster: bool) -> list[Object]:
    objects = workload_cluster(ObjectSet(), "dev", machines=1)
    if extra_cluster:
        workload_cluster(objects, "test", machines=1)
    bundle = objects.add(f"{TEST_GROUP}/v1", "ProviderBundle", "bundle", spec={})
    objects.add("v1", "ConfigMap", "bundle-part", owners=(bundle,), data={"a": "b"})
    setting = objects.add(f"{TEST_GROUP}/v1", "ProviderSetting", "setting", spec={})
    objects.add("v1", "Secret", "setting-token", owners=(setting,), data={})
    labelled = objects.add(
        "v1", "ConfigMap", "tree", labels={"clusterctl.cluster.x-k8s.io/move-hierarchy": ""}
    )
    objects.add("v1", "ConfigMap", "tree-leaf", owners=(labelled,), data={})
    objects.add("v1", "ConfigMap", "alone", labels={"clusterctl.cluster.x-k8s.io/move": ""})
    return objects.objects


FORCED = {
    "ProviderBundle capi/bundle",
    "ConfigMap capi/bundle-part",
    "ProviderSetting capi/setting",
    "ConfigMap capi/tree",
    "ConfigMap capi/tree-leaf",
    "ConfigMap capi/alone",
}


@pytest.mark.parametrize(
    ("extra_cluster", "cluster", "expected"),
    [
        pytest.param(False, None, FORCED, id="a namespace move takes them, hierarchies whole"),
        pytest.param(False, "dev", FORCED, id="so does a move of the namespace's last Cluster"),
        pytest.param(True, "dev", set(), id="a move of one Cluster of two leaves them"),
        pytest.param(True, None, FORCED, id="a move of both takes them"),
    ],
)
def test_objects_and_kinds_labelled_to_move(
    extra_cluster: bool, cluster: str | None, expected: set[str]
) -> None:
    graph = build_graph(_labelled(extra_cluster), KINDS)
    plan = plan_move(graph, cluster=cluster, namespace="capi")
    names = {str(i.ref) for i in plan.objects()}
    assert names & (FORCED | {"Secret capi/setting-token"}) == expected
    assert all(i.delete and not i.shared for i in plan.objects())


def _aws_clusters() -> list[Object]:
    """Clusters a and b authenticating through one static identity (via a role for a), an
    unrelated identity, and the credentials Secrets CAPA makes the identities own."""
    objects = ObjectSet("capi")
    globals_ = ObjectSet("")
    system = ObjectSet("capa-system")
    shared = globals_.add(INFRA, "AWSClusterStaticIdentity", "shared", spec={"secretRef": "keys"})
    role = globals_.add(
        INFRA,
        "AWSClusterRoleIdentity",
        "role",
        spec={"sourceIdentityRef": {"kind": "AWSClusterStaticIdentity", "name": "shared"}},
    )
    other = globals_.add(INFRA, "AWSClusterStaticIdentity", "other", spec={"secretRef": "o"})
    system.secret("keys", owners=(shared, other))
    system.secret("o", owners=(other,))
    for name, ref in (("a", role), ("b", shared)):
        cluster = objects.add(
            CAPI,
            "Cluster",
            name,
            spec={},
            status={"initialization": {"infrastructureProvisioned": True}},
        )
        objects.add(
            INFRA,
            "AWSCluster",
            name,
            owners=(cluster,),
            spec={"identityRef": {"kind": ref["kind"], "name": ref["metadata"]["name"]}},
        )
    return [*objects.objects, *globals_.objects, *system.objects]


@pytest.mark.parametrize(
    ("cluster", "shared"),
    [
        pytest.param(
            "a",
            [
                "AWSClusterRoleIdentity role",
                "AWSClusterStaticIdentity shared",
                "Secret capa-system/keys",
            ],
            id="one Cluster takes the identities it references, through the role's source",
        ),
        pytest.param(
            "b",
            ["AWSClusterStaticIdentity shared", "Secret capa-system/keys"],
            id="the other Cluster of the shared identity takes it too",
        ),
        pytest.param(
            None,
            [
                "AWSClusterRoleIdentity role",
                "AWSClusterStaticIdentity other",
                "AWSClusterStaticIdentity shared",
                "Secret capa-system/keys",
                "Secret capa-system/o",
            ],
            id="a namespace move takes every labelled global, as clusterctl",
        ),
    ],
)
def test_globals_are_copied_and_never_deleted(cluster: str | None, shared: list[str]) -> None:
    plan = plan_move(build_graph(_aws_clusters(), KINDS), cluster=cluster, namespace="capi")
    copied_only = sorted(str(i.ref) for i in plan.objects() if i.shared)
    assert copied_only == shared
    assert all(not i.delete for i in plan.objects() if i.shared)
    assert all(i.delete for i in plan.objects() if not i.shared)
    first = [str(i.ref) for i in plan.create_groups[0]]
    assert "AWSClusterStaticIdentity shared" in first  # owners first: the identity, then
    assert "Secret capa-system/keys" not in first  # the Secret it owns


def _class_left_behind(staying: bool) -> list[Object]:
    """The source after a run died in the delete phase: the Cluster gone, its class not."""
    objects = ObjectSet("capi")
    klass = objects.add(CAPI, "ClusterClass", "quick", spec={})
    objects.add(INFRA, "DockerClusterTemplate", "quick", owners=(klass,), spec={})
    if staying:
        objects.add(CAPI, "Cluster", "b", spec={"topology": {"classRef": {"name": "quick"}}})
    return objects.objects


@pytest.mark.parametrize(
    ("staying", "expected"),
    [
        pytest.param(
            False,
            [["DockerClusterTemplate capi/quick"], ["ClusterClass capi/quick"]],
            id="what a dead run left is deleted, dependents first",
        ),
        pytest.param(True, [], id="a class another Cluster still uses stays"),
    ],
)
def test_leftovers_of_a_delete_phase(staying: bool, expected: list[list[str]]) -> None:
    objects = _class_left_behind(staying)
    copied = {o["metadata"]["uid"] for o in objects if o["kind"] != "Cluster"}
    groups = plan_leftovers(build_graph(objects), copied)
    assert [[str(i.ref) for i in group] for group in groups] == expected
