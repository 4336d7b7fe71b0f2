"""The mesh report as text: an allowed/denied matrix (cells), Graphviz dot and Mermaid.

Pure string building; the CLI turns ``matrix`` into a rich table and prints the rest.
"""

from __future__ import annotations

from lattice_pulumi.compile.mesh.report import MeshReport, Verdict

__all__ = ["CELL", "matrix", "to_dot", "to_mermaid"]

CELL = {
    Verdict.ALLOWED: "allow",
    Verdict.NO_INBOUND: "deny (no inbound)",
    Verdict.NO_OUTBOUND: "deny (no outbound)",
    Verdict.NOT_ALLOWED: "deny (not allowed)",
    Verdict.UNKNOWN: "deny (unknown)",
}
NOT_DECLARED = "-"


def matrix(report: MeshReport) -> tuple[list[str], list[list[str]]]:
    """Column keys (callees: services then external services) and one row per caller.

    Each row starts with the caller's key; a cell is the pair's verdict, ``-`` when neither
    side declared the pair. Unknown keys that appear in declarations get a row or column.
    """
    callers = sorted({*report.services, *(e.caller for e in report.edges if not e.external)})
    callees = sorted({*report.services, *(e.callee for e in report.edges if not e.external)})
    externals = sorted({*report.externals, *(e.callee for e in report.edges if e.external)})
    columns = callees + [c for c in externals if c not in callees]
    verdicts = {(e.caller, e.callee): e.verdict for e in report.edges}
    rows = []
    for caller in callers:
        cells = [caller]
        for callee in columns:
            verdict = verdicts.get((caller, callee))
            cells.append(NOT_DECLARED if verdict is None else CELL[verdict])
        rows.append(cells)
    return columns, rows


def to_dot(report: MeshReport) -> str:
    """Graphviz: allowed edges solid green, denied ones dashed red with the reason."""
    lines = ["digraph mesh {", "  rankdir=LR;", "  node [shape=box];"]
    for key in report.externals:
        lines.append(f'  "{key}" [shape=ellipse];')
    for key in report.services:
        lines.append(f'  "{key}";')
    for edge in report.edges:
        if edge.verdict.allowed:
            style = 'color="darkgreen"'
        else:
            style = f'color="red", style="dashed", label="{edge.verdict.value}"'
        lines.append(f'  "{edge.caller}" -> "{edge.callee}" [{style}];')
    lines.append("}")
    return "\n".join(lines) + "\n"


def to_mermaid(report: MeshReport) -> str:
    """Mermaid flowchart: ``-->`` allowed, ``-.->|denied ...|`` denied."""
    keys = sorted({*report.services, *report.externals} | _edge_keys(report))
    ids = {key: f"n{i}" for i, key in enumerate(keys)}
    lines = ["flowchart LR"]
    for key in keys:
        shape = f'(["{key}"])' if key in report.externals else f'["{key}"]'
        lines.append(f"  {ids[key]}{shape}")
    for edge in report.edges:
        arrow = "-->" if edge.verdict.allowed else f"-.->|{edge.verdict.value.split(':')[0]}|"
        lines.append(f"  {ids[edge.caller]} {arrow} {ids[edge.callee]}")
    return "\n".join(lines) + "\n"


def _edge_keys(report: MeshReport) -> set[str]:
    return {e.caller for e in report.edges} | {e.callee for e in report.edges}
