"""Printing helpers shared by every command: one console for results, one for diagnostics.

Commands print results to stdout and everything else (summaries, warnings, errors) to stderr,
so ``lattice render ... > out.yaml`` stays clean.
"""

from __future__ import annotations

import json
from typing import Any, NoReturn

import typer
from rich.console import Console
from rich.markup import escape

from lattice_pulumi.errors import LatticeError, SpecError, SpecErrors

__all__ = [
    "err",
    "escape",
    "fail",
    "out",
    "print_json",
    "print_spec_errors",
    "print_spec_errors_line",
]

out = Console(highlight=False, soft_wrap=True)
err = Console(stderr=True, highlight=False, soft_wrap=True)


def print_json(data: Any) -> None:
    """Machine output: stable key order, one document."""
    out.print_json(json.dumps(data, sort_keys=True))


def print_spec_errors(errors: SpecErrors) -> None:
    for problem in errors.errors:
        print_spec_errors_line(problem)
    count = sum(1 for e in errors.errors if not e.warning)
    if count:
        err.print(f"[red]{count} error{'s' if count != 1 else ''}[/red]")


def print_spec_errors_line(problem: SpecError) -> None:
    label = "[yellow]warning[/yellow]" if problem.warning else "[red]error[/red]"
    err.print(f"{label} {escape(str(problem))}")


def fail(error: LatticeError, code: int = 1) -> NoReturn:
    """Report a LatticeError as readable lines (never a traceback) and exit non-zero."""
    if isinstance(error, SpecErrors):
        print_spec_errors(error)
    else:
        err.print(f"[red]error[/red] {escape(str(error))}")
    raise typer.Exit(code)
