"""Models from API bodies, ownership stamps and the status the operator writes."""

from __future__ import annotations

from typing import Any

import pytest

from lattice_pulumi.errors import SpecErrors
from lattice_pulumi.operator import ownership
from lattice_pulumi.operator.specs import model_from_body
from lattice_pulumi.operator.status import Report, build_status, same_status
from tests.unit.operator.test_dependents import body


def test_server_metadata_and_status_do_not_reach_the_model() -> None:
    model = model_from_body(body("web"))
    assert model.name == "web"
    assert model.metadata.annotations == {}


def test_an_invalid_body_names_every_problem_with_its_path() -> None:
    broken = body("web")
    broken["spec"]["replicas"] = "many"
    broken["spec"]["containers"]["main"]["image"] = ""
    with pytest.raises(SpecErrors) as caught:
        model_from_body(broken)
    text = str(caught.value)
    assert text.startswith("2 problems found\n")
    assert "LatticeService shop/web spec.replicas:" in text
    assert "LatticeService shop/web spec.containers.main.image:" in text
    assert ":1" not in text.split("\n")[1]  # no line numbers of a text nobody wrote


OBJECTS = [
    {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "a", "namespace": "shop"}},
    {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "b", "namespace": "other"}},
]


def test_stamps_add_owner_references_only_in_the_owners_namespace() -> None:
    owner = body("web")
    stamped = ownership.stamp(OBJECTS, owner)
    assert stamped[0]["metadata"]["ownerReferences"] == [
        {
            "apiVersion": "lattice.dev/v1alpha1",
            "kind": "LatticeService",
            "name": "web",
            "uid": "uid-web",
            "controller": True,
            "blockOwnerDeletion": True,
        }
    ]
    assert "ownerReferences" not in stamped[1]["metadata"]
    for obj in stamped:
        assert obj["metadata"]["labels"][ownership.OWNER_LABEL] == "uid-web"
        assert obj["metadata"]["labels"]["app.kubernetes.io/managed-by"] == "lattice"
    assert "labels" not in OBJECTS[0]["metadata"]  # inputs are not changed


def test_the_inventory_reports_new_and_changed_versions() -> None:
    inventory = ownership.Inventory()
    ref = ownership.ref_of(OBJECTS[0])
    assert inventory.record("u", ref, "1") is True
    assert inventory.record("u", ref, "1") is False
    assert inventory.record("u", ref, "2") is True
    assert inventory.drop("u") == {ref: "2"}
    assert inventory.count() == 0


def conditions(status: dict[str, Any]) -> dict[str, tuple[str, str]]:
    return {c["type"]: (c["status"], c["lastTransitionTime"]) for c in status["conditions"]}


def test_status_keeps_transition_times_of_unchanged_conditions() -> None:
    failed = build_status(None, Report("Failed", "PolicyDenied", "no permit", 1), "t1")
    assert conditions(failed) == {
        "Ready": ("False", "t1"),
        "Compiling": ("False", "t1"),
        "Failed": ("True", "t1"),
    }
    assert failed["observedGeneration"] == 1
    ready = build_status(failed, Report("Ready", "Applied", "8 objects applied", 1), "t2")
    assert conditions(ready) == {
        "Ready": ("True", "t2"),
        "Compiling": ("False", "t1"),
        "Failed": ("False", "t2"),
    }
    again = build_status(ready, Report("Ready", "Applied", "8 objects applied", 1), "t3")
    assert same_status(ready, again)
    compiling = build_status(ready, Report("Compiling", "NewGeneration", "compiling", 2), "t4")
    assert "observedGeneration" not in compiling  # only a finished reconcile moves it
