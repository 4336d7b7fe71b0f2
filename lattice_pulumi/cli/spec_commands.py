"""``lattice validate`` and ``lattice crds``: check specs, print the CRDs of every kind."""

from __future__ import annotations

from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any

import typer

from lattice_pulumi.cli import output
from lattice_pulumi.errors import SpecError, format_path
from lattice_pulumi.spec import crds, loader, yamlout
from lattice_pulumi.spec.base import dump_canonical

__all__ = ["register"]


class Format(StrEnum):
    text = "text"
    json = "json"
    yaml = "yaml"


Files = Annotated[
    list[Path],
    typer.Option("-f", "--filename", help="File or folder of YAML documents (repeatable)."),
]


def validate(
    filename: Files,
    out_format: Annotated[Format, typer.Option("-o", "--output")] = Format.text,
    canonical: Annotated[
        bool,
        typer.Option(
            "--canonical",
            help="Print every valid document in the canonical spelling (YAML on stdout).",
        ),
    ] = False,
) -> None:
    """Check every document; exit 1 when any has an error.

    ``-o yaml`` (or ``--canonical``) also prints the documents normalized: other accepted
    spellings (the original Lattice's LatticeCluster fields) rewritten into the canonical ones.
    """
    result = loader.load_paths(filename)
    if canonical or out_format is Format.yaml:
        _print_canonical(result)
    elif out_format is Format.json:
        output.print_json(
            {
                "valid": result.ok,
                "objects": [
                    {"kind": r.kind, "namespace": r.metadata.namespace, "name": r.name}  # type: ignore[attr-defined]
                    for r in result.resources
                ],
                "errors": [_as_json(e) for e in result.errors],
                "warnings": [_as_json(e) for e in result.warnings],
            }
        )
    else:
        for problem in [*result.errors, *result.warnings]:
            output.print_spec_errors_line(problem)
        if result.ok:
            output.err.print(
                f"{len(result.resources)} object(s) valid in {len(result.files)} file(s)"
            )
    if not result.ok:
        raise typer.Exit(1)


def _print_canonical(result: loader.LoadResult) -> None:
    for problem in [*result.errors, *result.warnings]:
        output.print_spec_errors_line(problem)
    if result.resources:
        text = yamlout.dump_all([dump_canonical(resource) for resource in result.resources])
        output.out.print(text, end="", markup=False, highlight=False)


def _as_json(problem: SpecError) -> dict[str, Any]:
    return {
        "file": problem.file,
        "line": problem.line,
        "column": problem.column,
        "path": format_path(problem.path),
        "message": problem.message,
    }


def print_crds() -> None:
    """Print the CustomResourceDefinitions of every Lattice kind as YAML."""
    output.out.print(crds.render_crds_yaml(), end="", markup=False)


def register(app: typer.Typer) -> None:
    app.command("validate")(validate)
    app.command("crds")(print_crds)
