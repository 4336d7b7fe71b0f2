"""CustomResourceDefinitions generated from the models, so schema and code never drift.

Pydantic's JSON schema is turned into a Kubernetes *structural* schema: references inlined,
``null`` branches dropped, unions merged into one object schema (the model validates the
details), ``str | int`` as ``x-kubernetes-int-or-string``, free-form maps preserved. Unknown
fields are left to the API server's strict field validation, since structural schemas may
not say ``additionalProperties: false`` next to ``properties``.
"""

from __future__ import annotations

import copy
from typing import Any

from lattice_pulumi.spec import yamlout
from lattice_pulumi.spec.base import API_GROUP
from lattice_pulumi.spec.kinds import KINDS
from lattice_pulumi.spec.meta import Resource

__all__ = ["build_crd", "build_crds", "open_api_schema", "render_crds_yaml"]

VERSION = "v1alpha1"
_KEEP = (
    "type",
    "properties",
    "additionalProperties",
    "items",
    "required",
    "enum",
    "pattern",
    "minimum",
    "maximum",
    "exclusiveMinimum",
    "exclusiveMaximum",
    "minLength",
    "maxLength",
    "minItems",
    "maxItems",
    "minProperties",
    "maxProperties",
    "description",
    "default",
    "format",
)
# Models that also accept their nested block's fields one level up (the flat layout).
_FLAT_LAYOUTS = {"LatticeService": "workload"}


def _resolve(node: Any, defs: dict[str, Any]) -> Any:
    if isinstance(node, dict):
        if "$ref" in node:
            target = defs[node["$ref"].rsplit("/", 1)[-1]]
            merged = {**target, **{k: v for k, v in node.items() if k != "$ref"}}
            return _resolve(merged, defs)
        return {k: _resolve(v, defs) for k, v in node.items()}
    if isinstance(node, list):
        return [_resolve(v, defs) for v in node]
    return node


def _structural(node: dict[str, Any]) -> dict[str, Any]:
    """One JSON-schema node as a structural OpenAPI v3 node."""
    branches = node.get("anyOf") or node.get("oneOf")
    if branches is not None:
        return _merge_union(node, [b for b in branches if b.get("type") != "null"])
    if "const" in node:
        node = {**node, "enum": [node["const"]]}
    if "enum" in node and "type" not in node:
        node = {**node, "type": _json_type(node["enum"][0])}
    if "patternProperties" in node and "additionalProperties" not in node:
        # map keys with a pattern: the model checks keys, the schema types the values
        node = {**node, "additionalProperties": next(iter(node["patternProperties"].values()))}
    out: dict[str, Any] = {k: node[k] for k in _KEEP if k in node}
    _draft4_bounds(out)
    kind = out.get("type")
    if kind == "object" or "properties" in out:
        out["type"] = "object"
        props = out.pop("properties", None)
        extra = out.pop("additionalProperties", None)
        if props:
            out["properties"] = {k: _structural(v) for k, v in props.items()}
        elif isinstance(extra, dict) and extra:
            out["additionalProperties"] = _structural(extra)
        else:
            out["x-kubernetes-preserve-unknown-fields"] = True
    elif kind == "array" and "items" in out:
        out["items"] = _structural(out["items"])
    elif kind is None:
        out["x-kubernetes-preserve-unknown-fields"] = True
        out["type"] = "object"
    if "default" in out and (out["default"] is None or isinstance(out["default"], dict | list)):
        del out["default"]
    return out


def _draft4_bounds(out: dict[str, Any]) -> None:
    """Kubernetes schemas spell exclusive bounds the draft-4 way: ``minimum`` + a boolean."""
    for bound, flag in (("minimum", "exclusiveMinimum"), ("maximum", "exclusiveMaximum")):
        value = out.get(flag)
        if isinstance(value, int | float) and not isinstance(value, bool):
            out[bound] = value
            out[flag] = True


def _json_type(value: Any) -> str:
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int):
        return "integer"
    if isinstance(value, float):
        return "number"
    return "string"


def _merge_union(node: dict[str, Any], branches: list[dict[str, Any]]) -> dict[str, Any]:
    extras = {k: v for k, v in node.items() if k in ("description", "default")}
    if len(branches) == 1:
        return _structural({**branches[0], **extras})
    types = {b.get("type") for b in branches}
    if types <= {"string", "integer"}:
        out = {"x-kubernetes-int-or-string": True, **extras}
        out.pop("default", None)
        return out
    if types == {"object"}:
        props: dict[str, Any] = {}
        for branch in branches:
            for key, sub in branch.get("properties", {}).items():
                props.setdefault(key, []).append(sub)
        merged = {
            key: _structural(subs[0]) if _same(subs) else _loose(subs)
            for key, subs in props.items()
        }
        required = set.intersection(*(set(b.get("required", [])) for b in branches))
        out = {"type": "object", "properties": merged, **extras}
        if required:
            out["required"] = sorted(required)
        return out
    return {"x-kubernetes-preserve-unknown-fields": True, **extras}


def _same(subs: list[dict[str, Any]]) -> bool:
    return all(s == subs[0] for s in subs)


def _loose(subs: list[dict[str, Any]]) -> dict[str, Any]:
    shapes = [_structural(s) for s in subs]
    types = {s.get("type") for s in shapes}
    if types == {"string"}:
        enums = [s.get("enum") for s in shapes]
        if all(enums):
            return {"type": "string", "enum": sorted({v for e in enums for v in e or ()})}
        return {"type": "string"}
    return {"type": "object", "x-kubernetes-preserve-unknown-fields": True}


def open_api_schema(model: type[Resource]) -> dict[str, Any]:
    """The structural schema of a kind's ``spec`` and ``status``."""
    raw = model.model_json_schema(by_alias=True, mode="validation")
    resolved = _resolve(raw, raw.get("$defs", {}))
    props = resolved["properties"]
    spec = _structural(props["spec"])
    kind = model.__name__
    if kind in _FLAT_LAYOUTS:
        nested = spec["properties"][_FLAT_LAYOUTS[kind]]
        spec["properties"].update(copy.deepcopy(nested["properties"]))
        spec["required"] = [r for r in spec.get("required", []) if r != _FLAT_LAYOUTS[kind]]
        if not spec["required"]:
            del spec["required"]
    schema: dict[str, Any] = {
        "type": "object",
        "required": ["spec"],
        "properties": {
            "apiVersion": {"type": "string"},
            "kind": {"type": "string"},
            "metadata": {"type": "object"},
            "spec": spec,
        },
    }
    if "status" in props:
        schema["properties"]["status"] = _structural(props["status"])
    return schema


def build_crd(model: type[Resource]) -> dict[str, Any]:
    """The apiextensions.k8s.io/v1 CustomResourceDefinition of one kind."""
    kind = model.__name__
    plural = model.plural or f"{kind.lower()}s"
    columns = [
        {"name": name, "type": kind_, "jsonPath": path}
        for name, kind_, path in model.printer_columns
    ]
    names: dict[str, Any] = {
        "kind": kind,
        "listKind": f"{kind}List",
        "plural": plural,
        "singular": kind.lower(),
        "categories": ["lattice"],
    }
    if model.short_names:
        names["shortNames"] = list(model.short_names)
    version: dict[str, Any] = {
        "name": VERSION,
        "served": True,
        "storage": True,
        "schema": {"openAPIV3Schema": open_api_schema(model)},
        "subresources": {"status": {}},
    }
    if columns:
        version["additionalPrinterColumns"] = columns
    return {
        "apiVersion": "apiextensions.k8s.io/v1",
        "kind": "CustomResourceDefinition",
        "metadata": {
            "name": f"{plural}.{API_GROUP}",
            "labels": {"app.kubernetes.io/managed-by": "lattice"},
        },
        "spec": {
            "group": API_GROUP,
            "names": names,
            "scope": "Namespaced" if model.namespaced else "Cluster",
            "versions": [version],
        },
    }


def build_crds() -> list[dict[str, Any]]:
    """Every Lattice CRD, sorted by name."""
    return sorted(
        (build_crd(model) for model in KINDS.values()), key=lambda c: c["metadata"]["name"]
    )


def render_crds_yaml() -> str:
    """Every Lattice CRD as one YAML stream, descriptions folded at 80 columns."""
    return yamlout.dump_all(build_crds(), width=80)
