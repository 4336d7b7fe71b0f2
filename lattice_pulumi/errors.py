"""The project's exception tree: every error a user can see, each carrying what it is about.

Every layer raises these (and only these) for problems a user can fix; the CLI turns any
``LatticeError`` into one readable message and a non-zero exit code::

    LatticeError
    ├── SpecError            one problem in one document: file, line, column, field path
    ├── SpecErrors           every SpecError found while loading, reported together
    ├── CompileError         a valid spec that cannot be compiled (unknown reference, ...)
    │   └── PolicyDenied     the Cedar authorizer refused something the spec asks for
    ├── PivotError           a pivot phase failed on one object
    ├── InstallError         an install phase failed, or its saved progress does not fit
    └── ToolError            an external program or server the project drives failed

Field paths are tuples of keys and list indexes, rendered ``spec.resources.db.keys[1]``.
This module imports nothing from the project, so every layer may use it.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

__all__ = [
    "CompileError",
    "FieldPath",
    "InstallError",
    "LatticeError",
    "PivotError",
    "PolicyDenied",
    "SpecError",
    "SpecErrors",
    "ToolError",
    "format_path",
]

FieldPath = tuple[str | int, ...]


def format_path(path: Sequence[str | int]) -> str:
    """Render a field path the way users write it: ``spec.containers.main.args[2]``.

    Keys that contain a dot are quoted so the rendering stays unambiguous.
    """
    out = ""
    for part in path:
        if isinstance(part, int):
            out += f"[{part}]"
            continue
        text = f'"{part}"' if ("." in part or part == "") else part
        out += f".{text}" if out else text
    return out


class LatticeError(Exception):
    """Root of every error lattice-pulumi raises on purpose."""


# Exceptions are not frozen dataclasses: raising sets __traceback__ and __context__ on them.
@dataclass
class SpecError(LatticeError):
    """One problem in one document, located as precisely as the input allows."""

    message: str
    path: FieldPath = ()
    file: str | None = None
    line: int | None = None  # 1-based
    column: int | None = None  # 1-based
    warning: bool = False

    def __post_init__(self) -> None:
        super().__init__(str(self))

    def location(self) -> str:
        """``file:line:col`` with whatever parts are known ("<input>" when nothing is)."""
        where = self.file or "<input>"
        if self.line is not None:
            where += f":{self.line}"
            if self.column is not None:
                where += f":{self.column}"
        return where

    def __str__(self) -> str:
        path = format_path(self.path)
        return (
            f"{self.location()} {path}: {self.message}"
            if path
            else (f"{self.location()}: {self.message}")
        )

    def with_prefix(self, *prefix: str | int) -> SpecError:
        """The same error one level further from the leaf (paths assemble while unwinding)."""
        return SpecError(
            self.message, (*prefix, *self.path), self.file, self.line, self.column, self.warning
        )


@dataclass
class SpecErrors(LatticeError):
    """Every problem found in one load, so a user fixes them all in one pass."""

    errors: tuple[SpecError, ...] = field(default_factory=tuple)

    def __post_init__(self) -> None:
        super().__init__(str(self))

    @classmethod
    def of(cls, errors: Iterable[SpecError]) -> SpecErrors:
        return cls(tuple(errors))

    def __str__(self) -> str:
        count = len(self.errors)
        head = f"{count} problem{'s' if count != 1 else ''} found"
        return "\n".join([head, *(str(e) for e in self.errors)])


class CompileError(LatticeError):
    """A spec that validated but cannot be turned into manifests."""

    def __init__(self, message: str, *, subject: str = "", path: FieldPath = ()) -> None:
        self.message = message
        self.subject = subject
        self.path = path
        parts = [p for p in (subject, format_path(path)) if p]
        super().__init__(f"{' '.join(parts)}: {message}" if parts else message)


class PolicyDenied(CompileError):
    """The authorizer said no; the message names the permit that would say yes."""


class PivotError(LatticeError):
    """A pivot phase failed; carries the phase and the object it failed on."""

    def __init__(self, message: str, *, phase: str, obj: str = "") -> None:
        self.phase = phase
        self.obj = obj
        super().__init__(f"pivot {phase}{' ' + obj if obj else ''}: {message}")


class InstallError(LatticeError):
    """An install or uninstall phase failed, or its saved progress does not fit this run."""

    def __init__(self, message: str, *, phase: str = "") -> None:
        self.phase = phase
        super().__init__(f"install {phase}: {message}" if phase else f"install: {message}")


class ToolError(LatticeError):
    """An external program or server that lattice drives failed or is missing."""
