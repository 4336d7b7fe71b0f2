"""The distribution planner: desired set + cluster objects -> create, update, delete, conflict."""

from __future__ import annotations

from typing import Any

import pytest

from lattice_pulumi.agent.distribution_plan import digest, key_of, plan_sync, with_digest
from lattice_pulumi.protocol.distribution import DIGEST_ANNOTATION, DISTRIBUTED_BY_LABEL


def policy(name: str, text: str = "permit(principal, action, resource);", **meta: Any) -> dict:
    metadata: dict[str, Any] = {"name": name, "namespace": "lattice-system", **meta}
    return {
        "apiVersion": "lattice.dev/v1alpha1",
        "kind": "CedarPolicy",
        "metadata": metadata,
        "spec": {"policies": text, "propagate": True},
    }


def wanted(name: str, text: str = "permit(principal, action, resource);") -> dict:
    """As the cell sends it: marked with the sender."""
    return policy(name, text, labels={DISTRIBUTED_BY_LABEL: "root"})


def held(obj: dict, uid: str = "u-1") -> dict:
    """As the cluster holds what the agent applied: digest recorded, server fields added."""
    body = with_digest(obj)
    body["metadata"].update(uid=uid, resourceVersion="7", generation=1)
    return body


def names(objs: list[dict]) -> list[str]:
    return [key_of(o)[1] for o in objs]


def test_new_names_are_created_with_their_digest() -> None:
    plan = plan_sync([wanted("b"), wanted("a")], [])
    assert names(plan.create) == ["a", "b"]
    assert plan.create[0]["metadata"]["annotations"][DIGEST_ANNOTATION] == digest(wanted("a"))
    assert (plan.update, plan.unchanged, plan.delete, plan.conflicts) == ([], [], [], [])


def test_a_distributed_object_with_the_same_digest_is_unchanged() -> None:
    plan = plan_sync([wanted("a")], [held(wanted("a"))])
    assert plan.unchanged == [("lattice-system", "a")]
    assert (plan.create, plan.update, plan.delete) == ([], [], [])


def test_a_changed_object_is_updated_against_what_is_there() -> None:
    there = held(wanted("a"))
    plan = plan_sync([wanted("a", "forbid(principal, action, resource);")], [there])
    assert [u.current["metadata"]["uid"] for u in plan.update] == ["u-1"]
    assert "forbid" in plan.update[0].desired["spec"]["policies"]
    assert (
        plan.update[0].desired["metadata"]["annotations"][DIGEST_ANNOTATION]
        != (there["metadata"]["annotations"][DIGEST_ANNOTATION])
    )


def test_distributed_objects_left_out_of_the_set_are_deleted() -> None:
    plan = plan_sync([wanted("a")], [held(wanted("a")), held(wanted("gone"), uid="u-2")])
    assert names(plan.delete) == ["gone"]
    assert plan.delete[0]["metadata"]["uid"] == "u-2"


def test_an_empty_set_deletes_every_distributed_object_and_nothing_else() -> None:
    plan = plan_sync([], [held(wanted("a")), policy("local")])
    assert names(plan.delete) == ["a"]
    assert plan.conflicts == []


def test_local_objects_are_never_planned_for_unless_their_name_is_wanted() -> None:
    plan = plan_sync([wanted("a")], [policy("mine"), policy("a")])
    assert names(plan.delete) == [] and names(plan.create) == []
    assert [key_of(c.current) for c in plan.conflicts] == [("lattice-system", "a")]
    assert plan.conflicts[0].message == (
        "CedarPolicy lattice-system/a exists in this cluster and was not made by "
        "distribution: kept, the parent's copy is not applied"
    )


def test_the_same_name_in_another_namespace_is_another_object() -> None:
    other = policy("a")
    other["metadata"]["namespace"] = "team"
    plan = plan_sync([wanted("a")], [other])
    assert names(plan.create) == ["a"] and plan.conflicts == []


def test_a_set_naming_an_object_twice_is_refused() -> None:
    with pytest.raises(ValueError, match="names lattice-system/a twice"):
        plan_sync([wanted("a"), wanted("a")], [])


def test_the_digest_ignores_its_own_annotation_and_the_input_is_not_changed() -> None:
    obj = wanted("a")
    marked = with_digest(obj)
    assert "annotations" not in obj["metadata"]
    assert digest(marked) == digest(obj)


def test_server_defaults_are_not_a_change_but_a_value_edited_by_hand_is() -> None:
    there = held(wanted("a"))
    there["spec"].update(enabled=True, priority=0)  # the CRD's defaults
    assert plan_sync([wanted("a")], [there]).unchanged == [("lattice-system", "a")]
    there["spec"]["policies"] = "forbid(principal, action, resource);"
    assert [u.current["spec"]["policies"] for u in plan_sync([wanted("a")], [there]).update] == [
        "forbid(principal, action, resource);"
    ]
    relabelled = held(wanted("a"))
    relabelled["metadata"]["labels"][DISTRIBUTED_BY_LABEL] = "someone"
    assert len(plan_sync([wanted("a")], [relabelled]).update) == 1
