"""Score resource provisioners as data: the file format, its loader and the built-in set.

A provisioner file is YAML (one document holding a list, or several documents) of entries::

    - type: redis                 # the Score resource type it provisions (required)
      class: cache                # optional: only resources of this class
      id: shared-cache            # optional: only the resource with this id
      description: A Redis instance
      params: {image: redis:7}    # defaults; a resource's params override them
      ports: {redis: 6379}        # TCP ports of the provisioned workload (Service, mesh)
      secrets: {password: {length: 32}}   # generated inside the cluster, never in files
      outputs: {host: "${name}.${namespace}.svc", password: "${secrets.password}"}
      objects: [...]              # Kubernetes objects, templates with ${...}

Template references: ``${name}`` (the provisioned objects' base name), ``${namespace}``,
``${secretName}`` (the Secret holding ``secrets``), ``${workload}`` (the consuming service;
the first one by ``namespace/name`` when several share the resource), ``${params.KEY}``,
``${cluster.name}``, ``${cluster.domain}``; ``${secrets.KEY}`` only in outputs. A value
that is exactly one reference keeps the type of the value (a number stays a number).
Matching is first match: user files (``--provisioners FILE|DIR``, files in name order) before
the built-in set shipped
in ``builtin_provisioners/``. Used by the CLI, the Pulumi components and the automation
program; the compilers get the loaded ``Provisioner`` objects and do no I/O.
"""

from __future__ import annotations

import functools
from collections.abc import Iterable, Sequence
from importlib import resources
from pathlib import Path
from typing import Any

from pydantic import Field, ValidationError, field_validator

from lattice_pulumi.errors import SpecError, SpecErrors
from lattice_pulumi.spec import placeholders
from lattice_pulumi.spec.base import DnsLabel, SpecModel
from lattice_pulumi.spec.yamlsource import Document, parse_documents

__all__ = [
    "GeneratedSecret",
    "Provisioner",
    "builtin_provisioners",
    "load_provisioner_text",
    "load_provisioners",
    "provisioned_types",
    "reference_problems",
]

_TEMPLATE_ROOTS = ("name", "namespace", "secretName", "workload", "params", "cluster")
_CLUSTER_KEYS = ("name", "domain", "environment", "region", "provider")


class GeneratedSecret(SpecModel):
    """A value generated in the cluster by the ESO Password generator (never in a file)."""

    length: int = Field(default=32, ge=8, le=128)
    digits: int | None = Field(default=None, ge=0)
    symbols: int = Field(default=0, ge=0)
    no_upper: bool = False


class Provisioner(SpecModel):
    """One provisioner entry (see the module docstring for the format)."""

    type: str = Field(min_length=2, max_length=63, pattern=r"^[A-Za-z0-9][A-Za-z0-9-]*$")
    class_: str | None = Field(default=None, alias="class")
    id: str | None = None
    description: str = ""
    params: dict[str, Any] = Field(default_factory=dict)
    ports: dict[DnsLabel, int] = Field(default_factory=dict)
    secrets: dict[DnsLabel, GeneratedSecret] = Field(default_factory=dict)
    outputs: dict[str, Any] = Field(default_factory=dict)
    objects: list[dict[str, Any]] = Field(default_factory=list)
    source: str = Field(default="", exclude=True)

    @field_validator("ports")
    @classmethod
    def _valid_ports(cls, value: dict[str, int]) -> dict[str, int]:
        for name, port in value.items():
            if not 1 <= port <= 65535:
                raise ValueError(f"port '{name}' is {port}: expected 1..65535")
        return value

    @field_validator("outputs")
    @classmethod
    def _scalar_outputs(cls, value: dict[str, Any]) -> dict[str, Any]:
        for key, item in value.items():
            if not isinstance(item, str | int | bool):
                raise ValueError(f"output '{key}' is not a string or number")
        return value

    def matches(self, type_: str, class_: str | None, id_: str | None) -> bool:
        """Whether this entry provisions a resource of that type, class and id."""
        if self.type != type_:
            return False
        if self.class_ is not None and self.class_ != class_:
            return False
        return self.id is None or self.id == id_

    @property
    def secret_outputs(self) -> frozenset[str]:
        """Outputs that carry a generated secret (delivered as Secret references)."""
        return frozenset(
            key
            for key, item in self.outputs.items()
            if isinstance(item, str) and any(r[0] == "secrets" for r in _refs(item))
        )


def _refs(text: str) -> list[placeholders.Reference]:
    return list(placeholders.iter_references(text))


def reference_problems(entry: Provisioner) -> list[tuple[tuple[str | int, ...], str]]:
    """``(path, message)`` of every template reference of ``entry`` that cannot resolve."""
    found: list[tuple[tuple[str | int, ...], str]] = []
    for key, item in entry.outputs.items():
        found += _template_problems(item, entry, True, ("outputs", key))
    for index, obj in enumerate(entry.objects):
        if not isinstance(obj.get("kind"), str) or not isinstance(obj.get("apiVersion"), str):
            problem = "expected a Kubernetes object with apiVersion and kind"
            found.append((("objects", index), problem))
        found += _template_problems(obj, entry, False, ("objects", index))
    return found


def _template_problems(
    node: Any, entry: Provisioner, in_outputs: bool, path: tuple[str | int, ...]
) -> list[tuple[tuple[str | int, ...], str]]:
    if isinstance(node, dict):
        items: Iterable[tuple[str | int, Any]] = node.items()
    elif isinstance(node, list):
        items = enumerate(node)
    elif isinstance(node, str):
        try:
            refs = _refs(node)
        except placeholders.PlaceholderError as exc:
            return [(path, str(exc))]
        return [(path, p) for ref in refs if (p := _reference_problem(ref, entry, in_outputs))]
    else:
        return []
    found = []
    for key, value in items:
        found += _template_problems(value, entry, in_outputs, (*path, key))
    return found


def _reference_problem(ref: placeholders.Reference, entry: Provisioner, outputs: bool) -> str:
    shown = "${" + ".".join(ref) + "}"
    head = ref[0]
    if head == "secrets":
        if not outputs:
            return f"'{shown}': secrets are only usable in outputs (objects use ${{secretName}})"
        if len(ref) != 2 or ref[1] not in entry.secrets:
            return f"'{shown}' names no entry of secrets (have: {_names(entry.secrets)})"
        return ""
    if head in ("name", "namespace", "secretName", "workload") and len(ref) == 1:
        return ""
    if head == "params":
        if len(ref) != 2 or ref[1] not in entry.params:
            return f"'{shown}' names no default in params (have: {_names(entry.params)})"
        return ""
    if head == "cluster" and len(ref) == 2 and ref[1] in _CLUSTER_KEYS:
        return ""
    roots = ", ".join((*_TEMPLATE_ROOTS, "secrets") if outputs else _TEMPLATE_ROOTS)
    return f"'{shown}' is not a template reference (known: {roots})"


def _names(values: Iterable[str]) -> str:
    return ", ".join(sorted(values)) or "none"


def load_provisioner_text(text: str, file: str = "<input>") -> list[Provisioner]:
    """The entries of one provisioner file's text; raises SpecErrors naming file and path."""
    documents, errors = parse_documents(text, file)
    found: list[Provisioner] = []
    for document in documents:
        entries, problems = _document_entries(document)
        found += entries
        errors += problems
    if errors:
        raise SpecErrors.of(errors)
    return found


def _document_entries(document: Document) -> tuple[list[Provisioner], list[SpecError]]:
    data = document.data
    listed = isinstance(data, list)
    items = data if listed else [data]
    entries, errors = [], []
    for index, item in enumerate(items):
        at: tuple[str | int, ...] = (index,) if listed else ()
        if not isinstance(item, dict):
            errors.append(document.error("expected a provisioner mapping with type", at))
            continue
        try:
            entry = Provisioner.model_validate({**item, "source": document.file})
        except ValidationError as exc:
            errors += [_entry_error(document, at, e) for e in exc.errors()]
            continue
        problems = reference_problems(entry)
        errors += [document.error(message, (*at, *path)) for path, message in problems]
        if not problems:
            entries.append(entry)
    return entries, errors


def _entry_error(document: Document, at: tuple[str | int, ...], item: Any) -> SpecError:
    loc = tuple(p for p in item["loc"] if p != "source")
    message = str(item["msg"]).removeprefix("Value error, ")
    if item["type"] == "missing":
        message = "required field is missing"
    elif item["type"] == "extra_forbidden":
        message = "unknown field (fields are camelCase; check the spelling)"
    return document.error(message, (*at, *loc))


def load_provisioners(paths: Sequence[str | Path]) -> list[Provisioner]:
    """User provisioners from files or folders (``*.yaml``/``*.yml``, in name order), followed
    by the built-in set; every problem of every file is raised at once."""
    found: list[Provisioner] = []
    errors: list[SpecError] = []
    for path in map(Path, paths):
        if not path.exists():
            errors.append(SpecError("no such provisioner file or folder", (), str(path)))
            continue
        files = sorted(p for p in path.rglob("*") if p.suffix in (".yaml", ".yml"))
        for file in files if path.is_dir() else [path]:
            try:
                found += load_provisioner_text(file.read_text(encoding="utf-8"), str(file))
            except SpecErrors as exc:
                errors += exc.errors
            except (OSError, UnicodeDecodeError) as exc:
                errors.append(SpecError(f"cannot read: {exc}", (), str(file)))
    if errors:
        raise SpecErrors.of(errors)
    return [*found, *builtin_provisioners()]


@functools.cache
def _builtin() -> tuple[Provisioner, ...]:
    folder = resources.files("lattice_pulumi.spec") / "builtin_provisioners"
    found: list[Provisioner] = []
    for item in sorted(folder.iterdir(), key=lambda p: p.name):
        if item.name.endswith(".yaml"):
            found += load_provisioner_text(item.read_text(encoding="utf-8"), f"builtin:{item.name}")
    return tuple(found)


def builtin_provisioners() -> list[Provisioner]:
    """The provisioners shipped with Lattice (postgres, mysql, redis, amqp, mongodb,
    kafka-topic, s3, dns, route)."""
    return list(_builtin())


def provisioned_types(provisioners: Iterable[Provisioner]) -> frozenset[str]:
    """Resource types some provisioner of ``provisioners`` serves."""
    return frozenset(p.type for p in provisioners)
