"""Small builders for test documents: a valid object, then one change at a path."""

from __future__ import annotations

import copy
import io
from typing import Any

from ruamel.yaml import YAML

_DELETE = object()


def service(**spec: Any) -> dict[str, Any]:
    """A minimal valid LatticeService document; keyword arguments replace spec fields."""
    doc: dict[str, Any] = {
        "apiVersion": "lattice.dev/v1alpha1",
        "kind": "LatticeService",
        "metadata": {"name": "api", "namespace": "shop"},
        "spec": {
            "containers": {"main": {"image": "ghcr.io/example/api:1.0"}},
            "service": {"ports": {"http": {"port": 8080}}},
            "resources": {},
        },
    }
    doc["spec"].update(spec)
    return doc


def changed(doc: dict[str, Any], path: str, value: Any = _DELETE) -> dict[str, Any]:
    """A copy of ``doc`` with ``value`` set at the dotted ``path`` (or the key removed)."""
    out = copy.deepcopy(doc)
    node = out
    parts = path.split(".")
    for part in parts[:-1]:
        node = node[int(part)] if isinstance(node, list) else node.setdefault(part, {})
    last = parts[-1]
    if value is _DELETE:
        del node[last]
    elif isinstance(node, list):
        node[int(last)] = value
    else:
        node[last] = value
    return out


def to_yaml(*docs: dict[str, Any]) -> str:
    yaml = YAML(typ="safe", pure=True)
    yaml.default_flow_style = False
    stream = io.StringIO()
    yaml.dump_all(list(docs), stream)
    return stream.getvalue()


DELETE = _DELETE
