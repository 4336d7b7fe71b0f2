"""``lattice mesh``: who may call whom, from the specs in files or folders.

``lattice mesh -f DIR`` loads every LatticeService and LatticeExternalService, builds the
service graph and prints the allowed/denied matrix (rows are callers, columns callees) with
each one-sided declaration and the exact line that would fix it. ``-o dot``/``mermaid`` print
a graph, ``-o json`` the full report. Findings go to stderr; the exit code is 1 only when
the specs do not load.
"""

from __future__ import annotations

from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer
from rich.markup import escape
from rich.table import Table

from lattice_pulumi.cli import output, provisioning
from lattice_pulumi.compile import provision
from lattice_pulumi.compile.context import CompileContext
from lattice_pulumi.compile.mesh import render
from lattice_pulumi.compile.mesh.graph import ServiceGraph
from lattice_pulumi.compile.mesh.report import MeshReport
from lattice_pulumi.errors import LatticeError, SpecErrors

__all__ = ["register"]


class MeshFormat(StrEnum):
    table = "table"
    dot = "dot"
    mermaid = "mermaid"
    json = "json"


Files = Annotated[
    list[Path],
    typer.Option("-f", "--filename", help="File or folder of YAML documents (repeatable)."),
]
Format = Annotated[MeshFormat, typer.Option("-o", "--output", help="table, dot, mermaid or json.")]


def register(app: typer.Typer) -> None:
    """Add the ``mesh`` command to ``app``."""
    app.command("mesh")(mesh)


def mesh(
    filename: Files,
    out_format: Format = MeshFormat.table,
    provisioners: provisioning.ProvisionersOption = None,
) -> None:
    """Print the allowed/denied matrix of the service mesh declared in the specs (provisioned
    Score resources included, each reachable by its consumers only)."""
    report = load_report(filename, provisioners)
    if out_format is MeshFormat.json:
        output.print_json(report.to_json())
    elif out_format is MeshFormat.dot:
        output.out.print(render.to_dot(report), end="", markup=False)
    elif out_format is MeshFormat.mermaid:
        output.out.print(render.to_mermaid(report), end="", markup=False)
    else:
        output.out.print(format_table(report))
        print_summary(report)
    print_findings(report)


def load_report(paths: list[Path], provisioner_paths: list[Path] | None = None) -> MeshReport:
    """Load every path (all problems at once) and report the mesh; exits 1 on spec errors."""
    try:
        entries = provisioning.load_provisioners(provisioner_paths)
    except SpecErrors as exc:
        output.fail(exc)
    result = provisioning.load_specs(paths, entries, strict=False)
    if result.errors:
        output.fail(SpecErrors.of(result.errors))
    context = CompileContext.of(list(result.resources), provisioners=entries)
    try:
        specs = provision.mesh_specs(list(result.resources), context)
    except LatticeError as exc:
        output.fail(exc)
    return ServiceGraph.of(specs).report()


def format_table(report: MeshReport) -> Table:
    columns, rows = render.matrix(report)
    table = Table(title="caller \\ callee", show_lines=False)
    table.add_column("caller", no_wrap=True, style="bold")
    for column in columns:
        table.add_column(escape(column), overflow="fold")
    for row in rows:
        table.add_row(escape(row[0]), *(_cell(text) for text in row[1:]))
    return table


def _cell(text: str) -> str:
    if text == "allow":
        return "[green]allow[/green]"
    if text.startswith("deny"):
        return f"[red]{escape(text)}[/red]"
    return "[dim]-[/dim]"


def print_summary(report: MeshReport) -> None:
    allowed, denied = len(report.allowed()), len(report.denied())
    output.err.print(
        f"{len(report.services)} services, {len(report.externals)} external services: "
        f"{allowed} allowed, {denied} denied declared pairs"
    )


def print_findings(report: MeshReport) -> None:
    for finding in report.findings:
        text = f"{finding.subject}: {finding.message}" + (f"; {finding.fix}" if finding.fix else "")
        output.err.print(f"[yellow]{finding.severity}[/yellow] {escape(text)}")
    for key in report.wildcard_callees:
        output.err.print(f'[cyan]note[/cyan] {escape(key)} accepts any caller (id: "*")')
