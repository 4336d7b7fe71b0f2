"""Load Lattice documents from files, folders or text, reporting every problem at once.

Pipeline per document: parse YAML (positions kept), pick the model by ``kind`` (a Score file
becomes a LatticeService), validate with pydantic, then run the kind's cross-field ``check``.
Every problem becomes a ``SpecError`` naming file, line, column and the field path exactly as
the author wrote it. ``load`` raises ``SpecErrors`` when anything is wrong, so callers get
either every object or none.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from lattice_pulumi.errors import FieldPath, SpecError, SpecErrors
from lattice_pulumi.spec import file_sources
from lattice_pulumi.spec.aliases import Normalized
from lattice_pulumi.spec.base import API_VERSION
from lattice_pulumi.spec.kinds import KINDS, SCORE_API_VERSION, kind_names
from lattice_pulumi.spec.meta import Resource
from lattice_pulumi.spec.service import LatticeService
from lattice_pulumi.spec.yamlsource import Document, parse_documents

__all__ = ["LoadResult", "load", "load_documents", "load_paths", "load_text", "user_path"]

_YAML_SUFFIXES = (".yaml", ".yml")


@dataclass
class LoadResult:
    """What one load found: the objects, the errors and the warnings."""

    resources: list[Resource] = field(default_factory=list)
    errors: list[SpecError] = field(default_factory=list)
    warnings: list[SpecError] = field(default_factory=list)
    files: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.errors

    def extend(self, other: LoadResult) -> None:
        """Add what another load found (several paths make one result)."""
        self.resources += other.resources
        self.errors += other.errors
        self.warnings += other.warnings
        self.files += other.files

    def raise_for_errors(self) -> None:
        if self.errors:
            raise SpecErrors.of([*self.errors, *self.warnings])


def load(source: str | Path) -> list[Resource]:
    """Every object in a file, a folder (recursively, ``*.yaml``/``*.yml``) or YAML text."""
    result = load_documents(source)
    result.raise_for_errors()
    return result.resources


def load_paths(paths: Iterable[str | Path]) -> LoadResult:
    """``load_documents`` over several files or folders, as one result."""
    result = LoadResult()
    for path in paths:
        result.extend(load_documents(path))
    return result


def load_documents(source: str | Path) -> LoadResult:
    """Like ``load`` but returns errors and warnings instead of raising."""
    if isinstance(source, Path) or ("\n" not in source and Path(source).exists()):
        return _load_path(Path(source))
    if isinstance(source, str) and "\n" not in source and source.endswith(_YAML_SUFFIXES):
        return LoadResult(errors=[SpecError("no such file or folder", (), source)])
    return load_text(source, "<input>")


def load_text(text: str, file: str = "<input>") -> LoadResult:
    result = LoadResult(files=[file])
    documents, errors = parse_documents(text, file)
    result.errors += errors
    for document in documents:
        _load_document(document, result)
    return result


def _load_path(path: Path) -> LoadResult:
    if not path.exists():
        return LoadResult(errors=[SpecError("no such file or folder", (), str(path))])
    files = _spec_files(path) if path.is_dir() else [path]
    result = LoadResult()
    for file in files:
        try:
            text = file.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            result.errors.append(SpecError(f"cannot read: {exc}", (), str(file)))
            continue
        result.extend(load_text(text, str(file)))
    return result


def _spec_files(folder: Path) -> list[Path]:
    """YAML files under ``folder``, except Pulumi project and stack files (``Pulumi*.yaml``),
    which live next to specs in Pulumi programs and are not Lattice documents."""
    return sorted(
        p
        for p in folder.rglob("*")
        if p.suffix in _YAML_SUFFIXES and p.is_file() and not p.name.startswith("Pulumi")
    )


def _load_document(document: Document, result: LoadResult) -> None:
    data = document.data
    if not isinstance(data, dict):
        result.errors.append(document.error("expected a mapping with apiVersion and kind"))
        return
    if data.get("apiVersion") == SCORE_API_VERSION:
        data = _score_as_service(data)
    kind = data.get("kind")
    model = KINDS.get(kind) if isinstance(kind, str) else None
    if model is None:
        message = (
            "missing kind" if kind is None else f"unknown kind '{kind}'"
        ) + f": expected one of {', '.join(kind_names())}, or a Score file ({SCORE_API_VERSION})"
        result.errors.append(document.error(message, ("kind",) if kind is not None else ()))
        return
    if data.get("apiVersion") != API_VERSION:
        result.errors.append(
            document.error(
                f"apiVersion '{data.get('apiVersion')}' is not served: expected {API_VERSION}",
                ("apiVersion",),
            )
        )
        return
    normalized = model.normalize(data)
    rejected = [_relocate(document, problem) for problem in normalized.errors]
    try:
        resource = model.model_validate(normalized.data)
    except ValidationError as exc:
        result.errors += rejected + _from_pydantic(document, exc.errors(), normalized)
        return
    found = rejected + [
        _relocate(document, problem, normalized) for problem in resource.check()
    ]
    if isinstance(resource, LatticeService) and not any(not e.warning for e in found):
        base = Path(document.file).parent if document.file != "<input>" else Path.cwd()
        resource, unread = file_sources.inline_sources(resource, base)
        found += [_relocate(document, problem) for problem in unread]
    result.errors += [e for e in found if not e.warning]
    result.warnings += [e for e in found if e.warning]
    if not any(not e.warning for e in found):
        result.resources.append(resource)


def _score_as_service(data: dict[str, Any]) -> dict[str, Any]:
    """A plain Score workload as a LatticeService (paths map back, see ``user_path``)."""
    metadata = data.get("metadata")
    spec = {k: v for k, v in data.items() if k not in ("apiVersion", "metadata")}
    return {"apiVersion": API_VERSION, "kind": "LatticeService", "metadata": metadata, "spec": spec}


def user_path(raw: Any, loc: Sequence[str | int]) -> FieldPath:
    """Map a model location onto the document the author wrote.

    Model locations can hold segments that are not in the document: a union's member tag,
    the ``workload`` level of the flat layout, ``spec`` of a Score file. A segment absent
    from the document is dropped when the next one is present, and everything below a
    scalar is a union tag; the rest of a path that leaves the document (a missing field) is
    kept as it is.
    """
    out: list[str | int] = []
    node = raw
    parts = list(loc)
    i = 0
    while i < len(parts):
        part = parts[i]
        if _has(node, part):
            out.append(part)
            node = node[part]
        elif part == "[key]":  # pydantic's marker for an invalid map key
            break
        elif (skip := _model_only_levels(node, parts, i)) is not None:
            i += skip  # levels the model has and the document does not
            continue
        elif isinstance(node, dict) and i + 1 == len(parts) and part == node.get("type"):
            break  # a discriminated union's tag, where a model validator failed
        else:
            if isinstance(node, dict | list):
                out += parts[i:]
            break
        i += 1
    return tuple(out)


def _model_only_levels(node: Any, parts: list[str | int], i: int) -> int | None:
    """How many segments from ``i`` to skip to reach one present in ``node`` (at most 2)."""
    for skip in (1, 2):
        if i + skip < len(parts) and _has(node, parts[i + skip]):
            return skip
    return None


def _has(node: Any, part: str | int) -> bool:
    if isinstance(node, dict):
        return part in node
    return isinstance(node, list) and isinstance(part, int) and 0 <= part < len(node)


def _relocate(
    document: Document, problem: SpecError, normalized: Normalized | None = None
) -> SpecError:
    path = normalized.author_path(problem.path) if normalized else problem.path
    path = user_path(document.data, path)
    return document.error(problem.message, path, warning=problem.warning)


def _from_pydantic(
    document: Document, items: Sequence[Any], normalized: Normalized
) -> list[SpecError]:
    """One error per path: the branches of a union that all failed become one message."""
    grouped: dict[FieldPath, list[Any]] = {}
    rejected = {problem.path for problem in normalized.errors}
    for item in items:
        written = normalized.author_path(item["loc"])
        if written in rejected:
            continue  # a field the rewrite rejected already says what is wrong there
        grouped.setdefault(user_path(document.data, written), []).append(item)
    found = []
    for path, group in grouped.items():
        relevant = [i for i in group if not str(i["type"]).endswith("_type")] or group
        messages = list(dict.fromkeys(_message(i) for i in relevant))
        found.append(document.error(" or ".join(messages), path))
    return found


def _message(item: Any) -> str:
    kind = item["type"]
    message = str(item["msg"])
    if kind == "missing":
        return "required field is missing"
    if kind == "extra_forbidden":
        return "unknown field (fields are camelCase; check the spelling)"
    if kind == "union_tag_invalid":
        return message
    if message.startswith("Value error, "):
        message = message[len("Value error, ") :]
    if message.startswith("Input should be"):
        message = "expected" + message[len("Input should be") :].rstrip(".")
        given = item.get("input")
        if isinstance(given, str | int | float | bool):
            message += f", got {given!r}"
    return message
