"""Global objects and objects that move on their own, between two real API servers.

An AWS cluster from the cluster compiler authenticates through a cluster-scoped
``AWSClusterStaticIdentity`` whose credentials Secret (in ``capa-system``) it owns; a second
Cluster shares the identity. Moving one Cluster copies the identity and its Secret (owner
remapped) and leaves both in the source; moving the other finds them in the target and
leaves the target's copy as it is. Kinds whose CRDs are labelled ``move``/``move-hierarchy``
follow a move of their namespace.
"""

from __future__ import annotations

import asyncio
import time

import pytest
from conftest import Planes
from pivot_support import (
    AWS_CLUSTER,
    aws_clusters,
    comparable,
    labelled_objects,
    owner_problems,
    running_cluster,
    seed,
    snapshot,
)

from lattice_pulumi.pivot import MoveOptions
from lattice_pulumi.pivot.session import move_clusters
from tests.pivot_builders import ObjectSet, ident

pytestmark = pytest.mark.integration

_EDITED = "pivot-test/edited-in-target"


def _is_global(key: str) -> bool:
    return key.startswith(("AWSClusterStaticIdentity ", "Secret capa-system/"))


def _move(planes: Planes, namespace: str, cluster: str | None) -> object:
    options = MoveOptions(cluster=cluster, namespace=namespace)
    return asyncio.run(
        move_clusters(planes.source.kubeconfig_path, planes.target.kubeconfig_path, options)
    )


def test_a_shared_identity_is_copied_and_stays_in_the_source(
    planes: Planes, capi_namespace: str
) -> None:
    objects = aws_clusters(capi_namespace)
    seed(planes.source.client, objects)
    before = snapshot(planes.source.client, objects)
    staging = {k for k in before if k.endswith("/staging")}
    shared = {k for k in before if _is_global(k)}
    moved = set(before) - staging - shared  # the production cluster's own objects
    assert len(shared) == 2 and len(staging) == 2 and len(moved) == len(objects) - 4

    _move(planes, capi_namespace, AWS_CLUSTER)
    source = snapshot(planes.source.client, objects)
    assert {k for k, v in source.items() if v is not None} == staging | shared
    assert {k: comparable(source[k]) for k in shared} == {
        k: comparable(before[k]) for k in shared
    }  # left in the source as they were
    target = snapshot(planes.target.client, objects)
    assert {k for k, v in target.items() if v is not None} == moved | shared
    assert {k: comparable(target[k]) for k in moved | shared} == {
        k: comparable(before[k]) for k in moved | shared
    }
    assert owner_problems(planes.target.client, [v for v in target.values() if v]) == []

    identity = next(v for k, v in target.items() if k.startswith("AWSClusterStaticIdentity"))
    planes.target.client.request(
        "PATCH",
        planes.target.client.path(
            identity["apiVersion"], identity["kind"], identity["metadata"]["name"]
        ),
        {"metadata": {"labels": {_EDITED: "yes"}}},
        content_type="application/merge-patch+json",
    )
    _move(planes, capi_namespace, "staging")
    source = snapshot(planes.source.client, objects)
    assert {k for k, v in source.items() if v is not None} == shared  # still for others
    target = snapshot(planes.target.client, objects)
    assert all(target.values())
    edited = target[ident(identity)]
    assert edited is not None and edited["metadata"]["labels"][_EDITED] == "yes"  # not overwritten
    time.sleep(3)  # the garbage collector removes a copy whose owner UID is wrong
    assert all(snapshot(planes.target.client, objects).values())


def test_labelled_kinds_and_objects_follow_their_namespace(
    planes: Planes, capi_namespace: str
) -> None:
    objects = [*running_cluster(capi_namespace, workers=1), *labelled_objects(capi_namespace)]
    objects.append(ObjectSet(capi_namespace).add("v1", "ConfigMap", "unrelated", data={"x": "y"}))
    seed(planes.source.client, objects)
    before = snapshot(planes.source.client, objects)
    _move(planes, capi_namespace, None)
    source = snapshot(planes.source.client, objects)
    assert [k for k, v in source.items() if v is not None] == [
        f"ConfigMap {capi_namespace}/unrelated"
    ]  # nothing owns it, nothing labels it: it stays
    target = snapshot(planes.target.client, objects)
    moved = [k for k in before if not k.endswith("/unrelated")]
    assert {k: comparable(target[k]) for k in moved} == {k: comparable(before[k]) for k in moved}
    assert f"ProviderSetting {capi_namespace}/setting" in moved
    assert f"ConfigMap {capi_namespace}/bundle-part" in moved
