"""Generated CRDs: structural, complete, and as strict as the models on single fields."""

from __future__ import annotations

import os
from typing import Any

import jsonschema
import pytest

from lattice_pulumi.spec import crds, loader
from lattice_pulumi.spec.kinds import KINDS
from lattice_pulumi.spec.yamlsource import parse_documents
from tests.builders import changed, service, to_yaml
from tests.conftest import EXAMPLES, ROOT


def _strict(schema: Any) -> Any:
    """The schema as the API server applies it with strict field validation."""
    if isinstance(schema, dict):
        out = {k: _strict(v) for k, v in schema.items() if not k.startswith("x-kubernetes")}
        if schema.get("x-kubernetes-int-or-string"):
            out["type"] = ["integer", "string"]
        for bound, flag in (("minimum", "exclusiveMinimum"), ("maximum", "exclusiveMaximum")):
            if schema.get(flag) is True:  # draft-4 spelling (Kubernetes) to draft 7
                out[flag] = out.pop(bound)
        if "properties" in schema and not schema.get("x-kubernetes-preserve-unknown-fields"):
            out["additionalProperties"] = False
        return out
    if isinstance(schema, list):
        return [_strict(v) for v in schema]
    return schema


def _validator(kind: str) -> jsonschema.Draft7Validator:
    crd = crds.build_crd(KINDS[kind])
    schema = _strict(crd["spec"]["versions"][0]["schema"]["openAPIV3Schema"])
    schema["properties"]["metadata"] = {"type": "object"}
    return jsonschema.Draft7Validator(schema)


def _walk(schema: dict[str, Any]) -> Any:
    """Every schema node (not the maps of property names)."""
    yield schema
    for sub in schema.get("properties", {}).values():
        yield from _walk(sub)
    for key in ("items", "additionalProperties"):
        if isinstance(schema.get(key), dict):
            yield from _walk(schema[key])


@pytest.mark.parametrize("kind", sorted(KINDS))
def test_crd_schema_is_structural(kind: str) -> None:
    crd = crds.build_crd(KINDS[kind])
    schema = crd["spec"]["versions"][0]["schema"]["openAPIV3Schema"]
    for node in _walk(schema):
        for flag in ("exclusiveMinimum", "exclusiveMaximum"):
            assert node.get(flag, True) is True, f"{flag} must be a boolean in Kubernetes"
        assert "$ref" not in node and "anyOf" not in node and "oneOf" not in node
        if "properties" in node:
            assert node.get("type") == "object"
            assert "additionalProperties" not in node
        if "type" not in node:
            assert node.get("x-kubernetes-int-or-string") or node.get(
                "x-kubernetes-preserve-unknown-fields"
            ), node


def test_crds_cover_every_kind_with_status_and_names() -> None:
    generated = crds.build_crds()
    assert {c["spec"]["names"]["kind"] for c in generated} == set(KINDS)
    for crd in generated:
        version = crd["spec"]["versions"][0]
        assert version["subresources"] == {"status": {}}
        assert crd["metadata"]["name"] == f"{crd['spec']['names']['plural']}.lattice.dev"
    service_crd = crds.build_crd(KINDS["LatticeService"])
    assert service_crd["spec"]["names"]["shortNames"] == ["lsvc"]
    assert service_crd["spec"]["scope"] == "Namespaced"


def test_every_example_validates_against_its_crd() -> None:
    checked = 0
    for path in sorted(EXAMPLES.rglob("*.yaml")):
        documents, _ = parse_documents(path.read_text(), str(path))
        for doc in documents:
            kind = doc.data.get("kind")
            if kind in KINDS:
                errors = [e.message for e in _validator(kind).iter_errors(doc.data)]
                assert errors == [], (path, doc.index)
                checked += 1
    assert checked >= 7


MAIN = "spec.containers.main"
BOTH_REJECT = [
    pytest.param(changed(service(), "spec.replicas", -1), id="negative replicas"),
    pytest.param(changed(service(), "spec.bogus", 1), id="unknown field"),
    pytest.param(changed(service(), f"{MAIN}.image"), id="missing image"),
    pytest.param(changed(service(), "spec.service.ports.http.protocol", "HTTP"), id="bad enum"),
    pytest.param(changed(service(), "spec.service.ports.http.port", 0), id="port zero"),
    pytest.param(changed(service(), "spec.containers", {}), id="no containers"),
    pytest.param(service(resources={"x": {"type": "service", "direction": "up"}}),
                 id="bad direction"),
    pytest.param(service(autoscaling={"min": 1}), id="autoscaling without max"),
]


@pytest.mark.parametrize("doc", BOTH_REJECT)
def test_schema_rejects_what_the_model_rejects(doc: dict[str, Any]) -> None:
    assert loader.load_text(to_yaml(doc)).errors
    assert list(_validator("LatticeService").iter_errors(doc))


@pytest.mark.parametrize(
    "doc",
    [
        pytest.param(service(), id="flat layout"),
        pytest.param(
            {**service(), "spec": {"workload": service()["spec"], "replicas": 3}},
            id="nested layout",
        ),
        pytest.param(changed(service(), f"{MAIN}.resources", {"requests": {"cpu": 2}}),
                     id="integer quantity"),
    ],
)
def test_schema_accepts_what_the_model_accepts(doc: dict[str, Any]) -> None:
    assert loader.load_text(to_yaml(doc)).errors == []
    assert list(_validator("LatticeService").iter_errors(doc)) == []


def test_crds_yaml_is_deterministic() -> None:
    assert crds.render_crds_yaml() == crds.render_crds_yaml()


def test_crds_match_the_committed_fixture() -> None:
    """A schema change is deliberate: regenerate with UPDATE_GOLDEN=1 and review the diff."""
    fixture = ROOT / "tests" / "golden" / "crds.yaml"
    rendered = crds.render_crds_yaml()
    if os.environ.get("UPDATE_GOLDEN"):
        fixture.write_text(rendered)
    assert rendered == fixture.read_text()
