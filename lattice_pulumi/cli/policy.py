"""``lattice policy``: validate CedarPolicy files and ask the authorizer a question.

``lattice policy validate -f DIR`` parses and validates every source against the schema and
lists each problem with file and line/column (exit 1 if any). ``lattice policy check`` builds
one request from uids in Cedar syntax and prints ``allow`` or ``deny`` with the reason; like
``kubectl auth can-i`` it exits 0 for allow and 1 for deny (2 for unusable input).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.markup import escape

from lattice_pulumi.cli.output import err, fail, out
from lattice_pulumi.errors import LatticeError
from lattice_pulumi.policy import CedarAuthorizer, Decision, PolicyProblem, Request, adhoc
from lattice_pulumi.policy import requests as policy_requests
from lattice_pulumi.policy import sources as policy_sources
from lattice_pulumi.policy.policyset import LoadReport

__all__ = ["register"]

FilesOption = Annotated[
    list[Path],
    typer.Option(
        "--file", "-f", help="A .cedar file, a CedarPolicy YAML file or a directory of them."
    ),
]


def register(app: typer.Typer) -> None:
    """Add the ``policy`` command group to ``app``."""
    group = typer.Typer(
        name="policy", help="Validate Cedar policies and check authorization.", no_args_is_help=True
    )
    group.command("validate")(validate)
    group.command("check")(check)
    app.add_typer(group, name="policy")


def validate(files: FilesOption) -> None:
    """Parse and validate policies against the lattice schema; exit 1 on any problem."""
    authorizer, problems = _load(files)
    for problem in problems:
        print_problem(problem)
    report = authorizer.report
    count = sum(1 for info in authorizer.policies.values() if info.source in _names(report))
    summary = f"{count} polic{'y' if count == 1 else 'ies'} in {len(report.loaded)} sources valid"
    if report.disabled:
        summary += f", {len(report.disabled)} disabled"
    out.print(escape(summary))
    if problems:
        err.print(f"[red]{len(problems)} problem{'s' if len(problems) != 1 else ''}[/red]")
        raise typer.Exit(1)


def check(
    files: FilesOption,
    principal: Annotated[str, typer.Option(help='e.g. Lattice::Service::"media/app"')],
    action: Annotated[str, typer.Option(help='e.g. Lattice::Action::"AccessSecret" or get')],
    resource: Annotated[str, typer.Option(help='e.g. Lattice::SecretPath::"vault:media/db"')],
    context: Annotated[str | None, typer.Option(help="Request context as a JSON object.")] = None,
    group: Annotated[
        list[str] | None, typer.Option("--group", help="A group of a User principal.")
    ] = None,
    label: Annotated[
        list[str] | None, typer.Option("--label", help="A cluster label, key=value.")
    ] = None,
    entities: Annotated[
        Path | None, typer.Option(help="Cedar JSON entities replacing synthesised ones.")
    ] = None,
) -> None:
    """Decide one request: prints allow or deny and why; exit 0 allow, 1 deny."""
    try:
        request = adhoc.build_request(
            principal,
            action,
            resource,
            context=_json_object(context, "--context") if context else None,
            groups=group or (),
            labels=_labels(label or []),
            entities=_entity_list(entities) if entities else (),
        )
    except ValueError as exc:
        fail(LatticeError(str(exc)), code=2)
    authorizer, problems = _load(files)
    for problem in problems:
        print_problem(problem, warning=True)
    decision = authorizer.authorize(request)
    print_decision(request, decision)
    if not decision.allowed:
        raise typer.Exit(1)


def print_problem(problem: PolicyProblem, *, warning: bool = False) -> None:
    """One problem per line on stderr: ``error file source:line:col: message``."""
    label = "[yellow]skipped[/yellow]" if warning else "[red]error[/red]"
    err.print(f"{label} {escape(str(problem))}")


def print_decision(request: Request, decision: Decision) -> None:
    """``allow: <reason>`` or ``deny: <reason>`` plus the permit that would allow it."""
    verdict = "allow" if decision.allowed else "deny"
    out.print(escape(f"{verdict}: {decision.reason}"))
    if not decision.allowed and decision.reason.startswith("no permit"):
        out.print(escape(f"to allow, add: {policy_requests.format_permit(request)}"))


def _load(files: list[Path]) -> tuple[CedarAuthorizer, list[PolicyProblem]]:
    missing = [str(f) for f in files if not f.exists()]
    if missing:
        fail(LatticeError(f"no such file or directory: {', '.join(missing)}"), code=2)
    loaded, problems = policy_sources.load_policy_files(files)
    authorizer = CedarAuthorizer(loaded)
    return authorizer, [*problems, *authorizer.report.problems]


def _names(report: LoadReport) -> set[str]:
    return {name.removesuffix(" (inherited)") for name in report.loaded}


def _json_object(text: str, option: str) -> dict[str, Any]:
    try:
        value = json.loads(text)
    except json.JSONDecodeError as exc:
        raise ValueError(f"{option}: not JSON: {exc.msg} at column {exc.colno}") from exc
    if not isinstance(value, dict):
        raise ValueError(f"{option}: expected a JSON object")
    return value


def _entity_list(path: Path) -> list[dict[str, Any]]:
    try:
        value = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError) as exc:
        raise ValueError(f"--entities {path}: {exc}") from exc
    if not isinstance(value, list) or not all(isinstance(v, dict) for v in value):
        raise ValueError(f"--entities {path}: expected a JSON list of entities")
    return value


def _labels(items: list[str]) -> dict[str, str]:
    labels: dict[str, str] = {}
    for item in items:
        key, sep, value = item.partition("=")
        if not sep or not key:
            raise ValueError(f"--label {item!r}: expected key=value")
        labels[key] = value
    return labels
