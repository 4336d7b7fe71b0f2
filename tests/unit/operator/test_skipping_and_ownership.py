"""Which applies the operator skips, which objects it may take over, and when it requeues."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from lattice_pulumi.operator import ownership
from lattice_pulumi.operator.state import ClusterState
from tests.unit.operator.test_dependents import body

CONFIG = {
    "apiVersion": "v1",
    "kind": "ConfigMap",
    "metadata": {"name": "web-main-env", "namespace": "shop"},
    "data": {"MODE": "fast"},
}


def stamped(data: dict[str, str] | None = None) -> dict[str, Any]:
    obj = copy.deepcopy(CONFIG)
    if data is not None:
        obj["data"] = data
    return ownership.stamp([obj], body("web"))[0]


def live(obj: dict[str, Any], **extra: Any) -> dict[str, Any]:
    """``obj`` as the server returns it: bookkeeping and defaults added."""
    out = copy.deepcopy(obj)
    out["metadata"].update(uid="u-1", resourceVersion="41", creationTimestamp="t", **extra)
    return out


def test_the_digest_is_stable_and_leaves_out_its_own_annotation() -> None:
    first, again = stamped(), stamped()
    digest = first["metadata"]["annotations"][ownership.HASH_ANNOTATION]
    assert digest == again["metadata"]["annotations"][ownership.HASH_ANNOTATION]
    assert ownership.digest(first) == digest
    assert stamped({"MODE": "slow"})["metadata"]["annotations"][ownership.HASH_ANNOTATION] != (
        digest
    )


@pytest.mark.parametrize(
    ("live_value", "wanted", "holds"),
    [
        pytest.param({"a": 1, "b": 2}, {"a": 1}, True, id="server defaults are extra keys"),
        pytest.param({"a": 1}, {"a": 2}, False, id="a changed value"),
        pytest.param({"b": 2}, {"a": 1}, False, id="a missing field"),
        pytest.param([{"x": 1, "d": 0}], [{"x": 1}], True, id="list items field by field"),
        pytest.param([{"x": 1}], [{"x": 1}, {"x": 2}], False, id="a missing list item"),
        pytest.param("1", 1, False, id="types differ"),
    ],
)
def test_live_objects_hold_what_is_wanted(live_value: Any, wanted: Any, holds: bool) -> None:
    assert ownership.contains(live_value, wanted) is holds


def test_an_unchanged_object_is_skipped_and_a_changed_one_applied() -> None:
    inventory = ownership.Inventory()
    obj = stamped()
    ref = ownership.ref_of(obj)
    assert not inventory.up_to_date("uid-web", obj)  # never applied
    inventory.record(
        "uid-web", ref, "41", obj["metadata"]["annotations"][ownership.HASH_ANNOTATION]
    )
    assert inventory.up_to_date("uid-web", obj)
    assert not inventory.up_to_date("uid-web", stamped({"MODE": "slow"}))
    inventory.discard("uid-web", ref)
    assert not inventory.up_to_date("uid-web", obj)


def test_objects_read_at_start_are_verified_against_the_server_once() -> None:
    inventory = ownership.Inventory()
    obj = stamped()
    inventory.record_live("uid-web", live(obj))
    assert inventory.up_to_date("uid-web", obj)  # same digest, every field in place
    assert inventory.up_to_date("uid-web", obj)

    edited = live(obj)
    edited["data"]["MODE"] = "by hand"  # the digest annotation still says what we applied
    inventory.record_live("uid-web", edited)
    assert not inventory.up_to_date("uid-web", obj)
    assert not inventory.up_to_date("uid-web", obj)  # stays unverified until applied again

    inventory.record_live("uid-web", live(stamped({"MODE": "old"})))
    assert not inventory.up_to_date("uid-web", obj)  # applied from an older spec


@pytest.mark.parametrize(
    ("labels", "references", "others", "why"),
    [
        pytest.param({}, [], set(), "is not managed by lattice", id="hand-made"),
        pytest.param(
            {"app.kubernetes.io/managed-by": "helm"},
            [],
            set(),
            "is not managed by lattice",
            id="another tool's",
        ),
        pytest.param(
            {"app.kubernetes.io/managed-by": "lattice", ownership.OWNER_LABEL: "uid-web"},
            [],
            set(),
            None,
            id="ours by label",
        ),
        pytest.param({}, [{"uid": "uid-web"}], set(), None, id="ours by owner reference"),
        pytest.param(
            {"app.kubernetes.io/managed-by": "lattice"},
            [],
            set(),
            None,
            id="left by Pulumi: adopted",
        ),
        pytest.param(
            {"app.kubernetes.io/managed-by": "lattice", ownership.OWNER_LABEL: "uid-gone"},
            [],
            {"uid-api"},
            None,
            id="of a deleted service: adopted",
        ),
        pytest.param(
            {"app.kubernetes.io/managed-by": "lattice", ownership.OWNER_LABEL: "uid-api"},
            [],
            {"uid-api"},
            "belongs to another service (owner uid uid-api)",
            id="of another live service",
        ),
    ],
)
def test_only_objects_with_our_marks_may_be_taken_over(
    labels: dict[str, str], references: list[dict[str, str]], others: set[str], why: str | None
) -> None:
    found = live(CONFIG, labels=labels, ownerReferences=references)
    assert ownership.foreign_owner(found, "uid-web", others | {"uid-web"}) == why


def test_our_own_status_writes_do_not_queue_the_service_again() -> None:
    state = ClusterState()
    web = body("web")
    state.observe_service(web)
    assert state.wants_converge("shop/web")
    state.note_taken("shop/web", web)
    assert not state.wants_converge("shop/web")

    written = copy.deepcopy(web)
    written["status"] = {"phase": "Ready", "observedGeneration": 1}
    written["metadata"]["resourceVersion"] = "8"
    assert state.observe_service(written) == set()
    assert not state.wants_converge("shop/web")
    assert state.bodies["shop/web"]["status"]["observedGeneration"] == 1  # kept current

    changed = copy.deepcopy(written)
    changed["metadata"]["generation"] = 2
    changed["spec"]["replicas"] = 3
    state.observe_service(changed)
    assert state.wants_converge("shop/web")


def test_a_recreated_service_of_the_same_name_is_converged_again() -> None:
    state = ClusterState()
    state.observe_service(body("web"))
    state.note_taken("shop/web", body("web"))
    state.observe_service(body("web", uid="uid-new"))
    assert state.wants_converge("shop/web")
    assert state.service_uids() == {"uid-new"}
