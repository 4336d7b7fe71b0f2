"""Typed Lattice models from the objects the API server holds (plain dict bodies).

A body carries server-written metadata (uid, resourceVersion, managedFields, ...) and a
status; the models describe what an author writes. ``model_from_body`` keeps name,
namespace, labels and annotations, drops the status, and validates. The common (valid)
case is one ``model_validate``; an invalid body goes through the project loader, so the
error lists every problem with its field path exactly as ``lattice validate`` would
(``LatticeService default/api spec.replicas: ...``), without YAML line numbers, which
would point into a text no one wrote.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from pydantic import ValidationError

from lattice_pulumi.errors import SpecError, SpecErrors
from lattice_pulumi.spec import loader
from lattice_pulumi.spec.kinds import KINDS
from lattice_pulumi.spec.meta import Resource

__all__ = ["authored_document", "body_label", "model_from_body"]

_AUTHORED_METADATA = ("name", "namespace", "labels", "annotations")
# Annotations the API machinery and kopf write; they are not part of the spec.
_FOREIGN_ANNOTATION_PREFIXES = (
    "kopf.zalando.org/",
    "operator.lattice.dev/",
    "kubectl.kubernetes.io/",
)


def body_label(body: Mapping[str, Any]) -> str:
    """``Kind namespace/name`` of a body, for messages."""
    meta = body.get("metadata", {})
    where = f"{meta['namespace']}/" if meta.get("namespace") else ""
    return f"{body.get('kind', '?')} {where}{meta.get('name', '?')}"


def authored_document(body: Mapping[str, Any]) -> dict[str, Any]:
    """The part of ``body`` an author wrote: apiVersion, kind, spec and plain metadata."""
    meta = body.get("metadata", {})
    metadata = {k: meta[k] for k in _AUTHORED_METADATA if meta.get(k)}
    annotations = {
        k: v
        for k, v in metadata.get("annotations", {}).items()
        if not k.startswith(_FOREIGN_ANNOTATION_PREFIXES)
    }
    if annotations:
        metadata["annotations"] = annotations
    else:
        metadata.pop("annotations", None)
    document = {
        "apiVersion": body.get("apiVersion"),
        "kind": body.get("kind"),
        "metadata": metadata,
    }
    if "spec" in body:
        document["spec"] = body["spec"]
    return document


def model_from_body(body: Mapping[str, Any]) -> Resource:
    """The validated model of ``body``; ``SpecErrors`` (every problem, with paths) if invalid."""
    document = authored_document(body)
    model = KINDS.get(str(document.get("kind")))
    if model is not None:
        try:
            resource = model.model_validate(document)
        except ValidationError:
            pass
        else:
            if not resource.check():
                return resource
    label = body_label(body)
    result = loader.load_text(json.dumps(document, indent=1), label)
    if result.errors:
        raise SpecErrors.of(
            SpecError(e.message, e.path, e.file, None, None, e.warning) for e in result.errors
        )
    if len(result.resources) != 1:
        raise SpecErrors.of([SpecError("expected exactly one Lattice document", (), label)])
    return result.resources[0]
