"""Turn what a program passes as a service spec into a validated LatticeService model.

Accepted: a ``LatticeService`` model; a dict holding a whole document (``apiVersion``,
``kind``, ``metadata``, ``spec``) or only its ``spec`` (then ``metadata.name`` is the
component name and the namespace comes from ``namespace``); a path to a YAML file (or YAML
text) holding the service. Dict values may be Pulumi Inputs: they are swapped for sentinels
first (``components.inputs``). Dicts go through the same loader as files, so errors carry
field paths and cross-field checks run.

``resolve_model`` does the same for any other kind (the LatticeCluster component's
``LatticeCluster`` and ``CloudProvider``), with plain values only: those specs decide
names, sizes and references at compile time, so an Output among them is an error.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any, TypeVar

from pydantic import ValidationError

from lattice_pulumi.components.inputs import Placeholders, extract_inputs
from lattice_pulumi.errors import CompileError, SpecError, SpecErrors
from lattice_pulumi.spec import loader
from lattice_pulumi.spec.base import API_VERSION
from lattice_pulumi.spec.kinds import KINDS
from lattice_pulumi.spec.meta import Resource
from lattice_pulumi.spec.service import LatticeService

__all__ = ["DocumentInput", "SpecInput", "resolve_model", "resolve_spec"]

SpecInput = LatticeService | Mapping[str, Any] | str | Path
"""What ``LatticeService(spec=...)`` accepts."""

DocumentInput = Resource | Mapping[str, Any] | str | Path
"""A model, a dict (whole document or its ``spec``), a YAML path or YAML text."""

_ModelT = TypeVar("_ModelT", bound=Resource)


def resolve_spec(
    name: str, spec: SpecInput, placeholders: Placeholders, namespace: str | None = None
) -> LatticeService:
    """The model of ``spec``; raises SpecErrors (paths included) or CompileError."""
    return _resolve(name, spec, LatticeService, placeholders, namespace)


def resolve_model(
    name: str, source: DocumentInput, model: type[_ModelT], namespace: str | None = None
) -> _ModelT:
    """The ``model`` document in ``source`` (the one, or the one named ``name``).

    A dict holding only a ``spec`` gets ``metadata.name`` ``name`` (and ``namespace`` for a
    namespaced kind). Values must be plain data: an Output is a CompileError.
    """
    placeholders = Placeholders.for_name(name)
    result = _resolve(name, source, model, placeholders, namespace)
    if placeholders.outputs:
        raise CompileError(
            f"a {_kind(model)} spec must be plain data, not Pulumi Outputs",
            subject=f"<{name}>",
        )
    return result


def _kind(model: type[Resource]) -> str:
    """The document ``kind`` of ``model`` (its name in ``spec.kinds.KINDS``)."""
    return next((kind for kind, known in KINDS.items() if known is model), model.__name__)


def _resolve(
    name: str,
    source: DocumentInput,
    model: type[_ModelT],
    placeholders: Placeholders,
    namespace: str | None,
) -> _ModelT:
    if isinstance(source, model):
        return source
    if isinstance(source, Resource):
        raise CompileError(
            f"expected a {_kind(model)}, got a {type(source).__name__}", subject=f"<{name}>"
        )
    if isinstance(source, Mapping):
        document = extract_inputs(source, placeholders)
        if "kind" not in document:
            metadata = {"name": name, **({"namespace": namespace} if namespace else {})}
            document = {
                "apiVersion": API_VERSION,
                "kind": _kind(model),
                "metadata": metadata,
                "spec": document,
            }
        loaded = _load_dict(name, document, placeholders, model)
        return _one(name, loaded, f"<{name}>", model)
    result = loader.load_documents(source)
    result.raise_for_errors()
    where = str(source) if "\n" not in str(source) else "<yaml>"
    return _one(name, result.resources, where, model)


def _load_dict(
    name: str, document: dict[str, Any], placeholders: Placeholders, model: type[Resource]
) -> list[Any]:
    fast = _validate(document, model)
    if fast is not None:
        return [fast]
    try:
        text = json.dumps(document, indent=1)  # JSON is YAML: one loader, one error format
    except TypeError as exc:
        raise CompileError(f"spec of '{name}' is not plain data: {exc}") from exc
    result = loader.load_text(text, f"<{name}>")
    if result.errors:
        raise SpecErrors.of(
            [
                SpecError(placeholders.describe(e.message), e.path, e.file, None, None, e.warning)
                for e in [*result.errors, *result.warnings]
            ]
        )
    return result.resources


def _validate(document: dict[str, Any], model: type[Resource]) -> Resource | None:
    """The model when the document is valid (the common case); None to take the slow path.

    The loader parses text to know lines and maps pydantic locations onto the author's
    layout; that costs more than validating, so it only runs when there is an error to
    report.
    """
    if document.get("apiVersion") != API_VERSION or document.get("kind") != _kind(model):
        return None
    normalized = model.normalize(document)  # the original Lattice's spellings, rewritten
    if normalized.errors:
        return None
    try:
        resource = model.model_validate(normalized.data)
    except ValidationError:
        return None
    return None if resource.check() else resource


def _one(name: str, resources: list[Any], where: str, model: type[_ModelT]) -> _ModelT:
    found = [r for r in resources if isinstance(r, model)]
    named = [r for r in found if r.name == name]
    if len(found) == 1:
        return found[0]
    if len(named) == 1:
        return named[0]
    raise CompileError(
        f"expected one {_kind(model)} (or one named '{name}'), found {len(found)}",
        subject=where,
    )
