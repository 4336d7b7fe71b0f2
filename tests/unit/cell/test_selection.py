"""Which distributed objects go to which child, and what travels of them."""

from __future__ import annotations

from typing import Any

import pytest

from lattice_pulumi.cell.selection import (
    NotDistributable,
    distributed_copy,
    parse_selector,
    wanted_by,
)
from lattice_pulumi.protocol.distribution import (
    DISTRIBUTED_BY_LABEL,
    ORIGIN_ANNOTATION,
    SELECTOR_ANNOTATION,
    SOURCE_GENERATION_ANNOTATION,
    SOURCE_UID_ANNOTATION,
)

PROD = {"environment": "production", "region": "us-east"}


def body(kind: str, spec: dict[str, Any], **meta: Any) -> dict[str, Any]:
    return {
        "apiVersion": "lattice.dev/v1alpha1",
        "kind": kind,
        "metadata": {
            "name": "x",
            "namespace": "lattice-system",
            "uid": "uid-1",
            "generation": 3,
            "resourceVersion": "99",
            "managedFields": [{"manager": "kubectl"}],
            **meta,
        },
        "spec": spec,
        "status": {"phase": "Active"},
    }


def policy(propagate: bool = True, **meta: Any) -> dict[str, Any]:
    spec = {"policies": "permit(principal, action, resource);", "propagate": propagate}
    return body("CedarPolicy", spec, **meta)


VAULT = {
    "vault": {
        "server": "https://vault.example.com",
        "auth": {"tokenSecretRef": {"name": "vault-token", "key": "token"}},
    }
}


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("", True),
        ("environment=production", True),
        ("environment==production,region=us-east", True),
        ("environment!=production", False),
        ("region in (us-east, eu-west)", True),
        ("region notin (us-east)", False),
        ("region in (eu-west),environment", False),
        ("environment", True),
        ("!canary", True),
        ("!region", False),
        ("tier=gold", False),
        ("tier!=gold", True),
    ],
)
def test_selectors_match_as_kubernetes_label_selectors(text: str, expected: bool) -> None:
    assert parse_selector(text).matches(PROD) is expected


@pytest.mark.parametrize("text", ["region in us-east", "a=b=c", "region in ()", "=x"])
def test_a_bad_selector_names_the_term(text: str) -> None:
    with pytest.raises(ValueError, match="expected"):
        parse_selector(text)


def test_providers_go_everywhere_policies_only_when_propagated() -> None:
    assert wanted_by(body("SecretProvider", VAULT), {})
    assert wanted_by(body("CloudProvider", {"type": "docker"}), {})
    assert wanted_by(policy(propagate=True), {})
    assert not wanted_by(policy(propagate=False), {})
    assert not wanted_by(policy(deletionTimestamp="2026-01-01T00:00:00Z"), {})


def test_the_opt_out_label_and_the_selector_annotation() -> None:
    assert not wanted_by(policy(labels={"lattice.dev/distribute": "false"}), PROD)
    aimed = policy(annotations={SELECTOR_ANNOTATION: "region=us-east"})
    assert wanted_by(aimed, PROD)
    assert not wanted_by(aimed, {"region": "eu-west"})
    broken = policy(annotations={SELECTOR_ANNOTATION: "region in us-east"})
    with pytest.raises(NotDistributable, match=r"CedarPolicy lattice-system/x: annotation"):
        wanted_by(broken, PROD)


def test_the_copy_holds_the_authored_object_and_the_markers() -> None:
    source = policy(
        labels={"team": "a"},
        annotations={"note": "n", "kubectl.kubernetes.io/last-applied-configuration": "{}"},
    )
    copy = distributed_copy(source, "root")
    assert copy == {
        "apiVersion": "lattice.dev/v1alpha1",
        "kind": "CedarPolicy",
        "metadata": {
            "name": "x",
            "namespace": "lattice-system",
            "labels": {"team": "a", DISTRIBUTED_BY_LABEL: "root"},
            "annotations": {
                "note": "n",
                ORIGIN_ANNOTATION: "root",
                SOURCE_UID_ANNOTATION: "uid-1",
                SOURCE_GENERATION_ANNOTATION: "3",
            },
        },
        "spec": source["spec"],
    }


def test_a_received_copy_is_handed_on_with_the_origin_markers_of_the_first_hop() -> None:
    received = distributed_copy(policy(), "root")
    received["metadata"].update(uid="uid-in-prod", generation=1)
    again = distributed_copy(received, "prod")
    assert again["metadata"]["labels"][DISTRIBUTED_BY_LABEL] == "prod"
    annotations = again["metadata"]["annotations"]
    assert annotations[ORIGIN_ANNOTATION] == "root"
    assert annotations[SOURCE_UID_ANNOTATION] == "uid-1"
    assert annotations[SOURCE_GENERATION_ANNOTATION] == "3"


def test_a_secret_provider_travels_as_references_only() -> None:
    copy = distributed_copy(body("SecretProvider", VAULT), "root")
    assert copy["spec"] == VAULT  # the Secret's name and key, never its content


def test_inline_credentials_or_invalid_specs_are_not_distributed() -> None:
    inline = {"vault": {**VAULT["vault"], "token": "s.hunter2"}}
    with pytest.raises(NotDistributable, match=r"SecretProvider lattice-system/x: invalid at"):
        distributed_copy(body("SecretProvider", inline), "root")
    with pytest.raises(NotDistributable, match="not a distributed kind"):
        distributed_copy(body("LatticeService", {}), "root")
