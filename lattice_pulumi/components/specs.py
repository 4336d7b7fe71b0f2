"""Turn what a program passes as a service spec into a validated LatticeService model.

Accepted: a ``LatticeService`` model; a dict holding a whole document (``apiVersion``,
``kind``, ``metadata``, ``spec``) or only its ``spec`` (then ``metadata.name`` is the
component name and the namespace comes from ``namespace``); a path to a YAML file (or YAML
text) holding the service. Dict values may be Pulumi Inputs: they are swapped for sentinels
first (``components.inputs``). Dicts go through the same loader as files, so errors carry
field paths and cross-field checks run.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from lattice_pulumi.components.inputs import Placeholders, extract_inputs
from lattice_pulumi.errors import CompileError, SpecError, SpecErrors
from lattice_pulumi.spec import loader
from lattice_pulumi.spec.base import API_VERSION
from lattice_pulumi.spec.service import LatticeService

__all__ = ["SpecInput", "resolve_spec"]

SpecInput = LatticeService | Mapping[str, Any] | str | Path
"""What ``LatticeService(spec=...)`` accepts."""


def resolve_spec(
    name: str, spec: SpecInput, placeholders: Placeholders, namespace: str | None = None
) -> LatticeService:
    """The model of ``spec``; raises SpecErrors (paths included) or CompileError."""
    if isinstance(spec, LatticeService):
        return spec
    if isinstance(spec, Mapping):
        document = extract_inputs(spec, placeholders)
        if "kind" not in document:
            metadata = {"name": name, **({"namespace": namespace} if namespace else {})}
            document = {
                "apiVersion": API_VERSION,
                "kind": "LatticeService",
                "metadata": metadata,
                "spec": document,
            }
        return _one(name, _load_dict(name, document, placeholders), f"<{name}>")
    result = loader.load_documents(spec)
    result.raise_for_errors()
    return _one(name, result.resources, str(spec) if "\n" not in str(spec) else "<yaml>")


def _load_dict(name: str, document: dict[str, Any], placeholders: Placeholders) -> list[Any]:
    fast = _validate(document)
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


def _validate(document: dict[str, Any]) -> LatticeService | None:
    """The model when the document is valid (the common case); None to take the slow path.

    The loader parses text to know lines and maps pydantic locations onto the author's
    layout; that costs more than validating, so it only runs when there is an error to
    report.
    """
    if document.get("apiVersion") != API_VERSION or document.get("kind") != "LatticeService":
        return None
    try:
        model = LatticeService.model_validate(document)
    except ValidationError:
        return None
    return None if model.check() else model


def _one(name: str, resources: list[Any], where: str) -> LatticeService:
    services = [r for r in resources if isinstance(r, LatticeService)]
    named = [s for s in services if s.name == name]
    if len(services) == 1:
        return services[0]
    if len(named) == 1:
        return named[0]
    raise CompileError(
        f"expected one LatticeService (or one named '{name}'), found {len(services)}",
        subject=where,
    )
