"""Stack operations through the Automation API: up, preview, destroy, refresh, outputs.

Each operation opens (creates or selects) the stack described by ``StackSettings`` with an
inline program, runs, and returns a small ``OperationResult``. Engine failures become a
``ToolError`` holding the engine's first error line; a ``LatticeError`` raised while the
program runs (a spec the compiler refuses) is re-raised as it is, so the CLI prints the
same one-line message as ``lattice render``.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from pulumi import automation as auto

from lattice_pulumi.automation.settings import StackSettings, workspace_options
from lattice_pulumi.errors import LatticeError, ToolError

__all__ = [
    "EventHandler",
    "OperationResult",
    "StackInfo",
    "destroy",
    "engine_error_line",
    "get_stacks",
    "outputs",
    "preview",
    "refresh",
    "up",
]

EventHandler = Callable[[auto.EngineEvent], None]
Program = Callable[[], None]


@dataclass(frozen=True)
class OperationResult:
    """What an operation changed (op name -> count) and the stack outputs after it."""

    operation: str
    changes: Mapping[str, int] = field(default_factory=dict)
    outputs: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class StackInfo:
    """One stack in the state directory."""

    name: str
    last_update: str | None
    resource_count: int | None


def _noop() -> None:
    """A program for operations that do not run one (destroy, refresh, outputs)."""


class _Guarded:
    """Wraps a program so a LatticeError raised in it survives the engine's report."""

    def __init__(self, program: Program) -> None:
        self.program = program
        self.error: LatticeError | None = None

    def __call__(self) -> None:
        try:
            self.program()
        except LatticeError as exc:
            self.error = exc
            raise


def engine_error_line(text: str) -> str:
    """The most telling line of an engine failure (its first ``error:`` line)."""
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    for line in lines:
        if line.startswith("error:") and "update failed" not in line:
            return line.removeprefix("error:").strip()
    for line in lines:
        if "error" in line.lower():
            return line
    return lines[0] if lines else "the pulumi engine failed"


def _open(settings: StackSettings, program: Program) -> auto.Stack:
    options = workspace_options(settings, os.environ)
    try:
        return auto.create_or_select_stack(
            settings.stack, project_name=settings.project, program=program, opts=options
        )
    except auto.CommandError as exc:
        raise ToolError(f"stack {settings.stack}: {engine_error_line(str(exc))}") from exc


def _run(settings: StackSettings, program: Program, action: Callable[[auto.Stack], Any]) -> Any:
    guarded = _Guarded(program)
    stack = _open(settings, guarded)
    try:
        return stack, action(stack)
    except auto.CommandError as exc:
        if guarded.error is not None:
            raise guarded.error from exc
        raise ToolError(f"stack {settings.stack}: {engine_error_line(str(exc))}") from exc


def _changes(summary: Mapping[Any, int] | None) -> dict[str, int]:
    return {getattr(k, "value", str(k)): v for k, v in (summary or {}).items()}


def _values(out: Mapping[str, auto.OutputValue]) -> dict[str, Any]:
    return {k: ("[secret]" if v.secret else v.value) for k, v in out.items()}


def up(
    settings: StackSettings, program: Program, on_event: EventHandler | None = None
) -> OperationResult:
    """Deploy ``program`` to the stack."""
    _, result = _run(settings, program, lambda s: s.up(on_event=on_event, color="never"))
    return OperationResult("up", _changes(result.summary.resource_changes), _values(result.outputs))


def preview(
    settings: StackSettings, program: Program, on_event: EventHandler | None = None
) -> OperationResult:
    """What ``up`` would change."""
    _, result = _run(settings, program, lambda s: s.preview(on_event=on_event, color="never"))
    return OperationResult("preview", _changes(result.change_summary))


def destroy(settings: StackSettings, on_event: EventHandler | None = None) -> OperationResult:
    """Delete every resource of the stack (the stack itself stays, empty)."""
    _, result = _run(settings, _noop, lambda s: s.destroy(on_event=on_event, color="never"))
    return OperationResult("destroy", _changes(result.summary.resource_changes))


def refresh(settings: StackSettings, on_event: EventHandler | None = None) -> OperationResult:
    """Read the live state of every resource into the stack."""
    _, result = _run(settings, _noop, lambda s: s.refresh(on_event=on_event, color="never"))
    return OperationResult("refresh", _changes(result.summary.resource_changes))


def outputs(settings: StackSettings) -> dict[str, Any]:
    """The stack's outputs (secrets shown as ``[secret]``)."""
    _, result = _run(settings, _noop, lambda s: s.outputs())
    return _values(result)


def get_stacks(settings: StackSettings) -> list[StackInfo]:
    """Stacks of the project in the state directory, by name."""
    options = workspace_options(settings, os.environ)
    try:
        workspace = auto.LocalWorkspace(
            env_vars=options.env_vars,
            secrets_provider=options.secrets_provider,
            project_settings=options.project_settings,
            pulumi_command=options.pulumi_command,
        )
        summaries = workspace.list_stacks()
    except auto.CommandError as exc:
        raise ToolError(f"listing stacks: {engine_error_line(str(exc))}") from exc
    return sorted(
        (
            StackInfo(
                s.name, s.last_update.isoformat() if s.last_update else None, s.resource_count
            )
            for s in summaries
        ),
        key=lambda s: s.name,
    )
