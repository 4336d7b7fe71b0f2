"""``lattice up``, ``preview``, ``destroy``, ``refresh``, ``outputs`` and ``stacks``.

Thin commands over ``lattice_pulumi.automation``: load the specs (failing fast with paths),
build the inline program, run the operation with a live resource table on stderr, print
the result. State is local (``~/.lattice/state`` or ``--state-dir``/``LATTICE_STATE_DIR``)
and secrets use a passphrase (``PULUMI_CONFIG_PASSPHRASE`` or a generated 0600 file), see
``automation.settings``. Every LatticeError, engine failures included, ends as one line
and exit code 1. The automation package (and so pulumi) is imported only when a command
runs, so the rest of the CLI starts fast and runs where pulumi is not installed.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.table import Table

from lattice_pulumi.cli import output, provisioning
from lattice_pulumi.errors import LatticeError

if TYPE_CHECKING:
    from lattice_pulumi.automation import OperationResult, StackSettings
    from lattice_pulumi.automation.progress import LiveProgress

__all__ = ["DEFAULT_STACK", "format_changes", "register"]

DEFAULT_STACK = "dev"  # as automation.settings.DEFAULT_STACK (a test checks they agree)

Files = Annotated[
    list[Path], typer.Option("-f", "--filename", help="Spec file or folder (repeatable).")
]
Stack = Annotated[str, typer.Option("--stack", "-s", help="Stack name.")]
StateDir = Annotated[
    Path | None,
    typer.Option("--state-dir", help="State folder (default ~/.lattice/state, LATTICE_STATE_DIR)."),
]
Kubeconfig = Annotated[
    Path | None, typer.Option("--kubeconfig", help="Kubeconfig of the target cluster.")
]
KubeContext = Annotated[str | None, typer.Option("--context", help="Context in the kubeconfig.")]
SkipAwait = Annotated[
    bool,
    typer.Option("--skip-await", help="Apply without waiting for workloads to become ready."),
]
RenderTo = Annotated[
    Path | None,
    typer.Option("--render-to", help="Write YAML manifests here instead of applying them."),
]


def format_changes(changes: dict[str, int]) -> str:
    """``create 3, same 2`` (or ``no changes``)."""
    shown = {k: v for k, v in sorted(changes.items()) if v}
    return ", ".join(f"{k} {v}" for k, v in shown.items()) or "no changes"


def _settings(stack: str, state_dir: Path | None) -> StackSettings:
    """The stack's settings, once the engine is known to exist (before any live display)."""
    from lattice_pulumi.automation import settings

    found = settings.stack_settings(stack, state_dir=state_dir)
    settings.find_pulumi(found, os.environ)
    return found


def _program(
    files: list[Path],
    kubeconfig: Path | None,
    context: str | None,
    render_to: Path | None,
    skip_await: bool = False,
    provisioners: list[Path] | None = None,
) -> Callable[[], None]:
    from lattice_pulumi import automation

    deployment = automation.load_deployment(files, provisioner_paths=provisioners or [])
    for warning in deployment.warnings:
        output.print_spec_errors_line(warning)
    for problem in deployment.policy_problems:
        output.err.print(f"[yellow]warning[/yellow] policy {output.escape(problem)} (skipped)")
    target = automation.Target(
        kubeconfig=str(kubeconfig.expanduser().resolve()) if kubeconfig else None,
        kube_context=context,
        render_to=render_to.resolve() if render_to else None,
        skip_await=skip_await,
    )
    return automation.build_program(deployment, target)


def _with_progress(title: str, run: Callable[[LiveProgress], Any]) -> Any:
    from lattice_pulumi.automation.progress import LiveProgress

    with LiveProgress(title, console=output.err) as live:
        return run(live)


def _finish(result: OperationResult) -> None:
    output.err.print(f"{result.operation}: {format_changes(dict(result.changes))}")
    if result.outputs:
        output.print_json(dict(result.outputs))


def _operate(title: str, run: Callable[[LiveProgress], Any]) -> None:
    """Run one engine operation with live progress; a LatticeError ends in one line."""
    try:
        result = _with_progress(title, run)
    except LatticeError as exc:
        output.fail(exc)
    _finish(result)


def up(
    filename: Files,
    stack: Stack = DEFAULT_STACK,
    kubeconfig: Kubeconfig = None,
    context: KubeContext = None,
    render_to: RenderTo = None,
    state_dir: StateDir = None,
    skip_await: SkipAwait = False,
    provisioners: provisioning.ProvisionersOption = None,
) -> None:
    """Deploy every LatticeService found to the cluster (or render it to a folder)."""
    from lattice_pulumi import automation

    try:
        program = _program(filename, kubeconfig, context, render_to, skip_await, provisioners)
        config = _settings(stack, state_dir)
    except LatticeError as exc:
        output.fail(exc)
    _operate(f"up {stack}", lambda live: automation.up(config, program, live.on_event))


def preview(
    filename: Files,
    stack: Stack = DEFAULT_STACK,
    kubeconfig: Kubeconfig = None,
    context: KubeContext = None,
    render_to: RenderTo = None,
    state_dir: StateDir = None,
    skip_await: SkipAwait = False,
    provisioners: provisioning.ProvisionersOption = None,
) -> None:
    """Show what ``lattice up`` would change, without changing anything."""
    from lattice_pulumi import automation

    try:
        program = _program(filename, kubeconfig, context, render_to, skip_await, provisioners)
        config = _settings(stack, state_dir)
    except LatticeError as exc:
        output.fail(exc)
    _operate(f"preview {stack}", lambda live: automation.preview(config, program, live.on_event))


def destroy(stack: Stack = DEFAULT_STACK, state_dir: StateDir = None) -> None:
    """Delete everything the stack deployed."""
    from lattice_pulumi import automation

    try:
        config = _settings(stack, state_dir)
    except LatticeError as exc:
        output.fail(exc)
    _operate(f"destroy {stack}", lambda live: automation.destroy(config, live.on_event))


def refresh(stack: Stack = DEFAULT_STACK, state_dir: StateDir = None) -> None:
    """Read the live state of the stack's resources."""
    from lattice_pulumi import automation

    try:
        config = _settings(stack, state_dir)
    except LatticeError as exc:
        output.fail(exc)
    _operate(f"refresh {stack}", lambda live: automation.refresh(config, live.on_event))


def outputs(stack: Stack = DEFAULT_STACK, state_dir: StateDir = None) -> None:
    """Print the stack's outputs as JSON (urls, objects, mesh findings)."""
    from lattice_pulumi import automation

    try:
        values = automation.outputs(_settings(stack, state_dir))
    except LatticeError as exc:
        output.fail(exc)
    output.print_json(values)


def stacks(state_dir: StateDir = None) -> None:
    """List the stacks in the state folder."""
    from lattice_pulumi import automation

    try:
        config = _settings(DEFAULT_STACK, state_dir)
        found = automation.get_stacks(config)
    except LatticeError as exc:
        output.fail(exc)
    table = Table("stack", "last update", "resources", show_edge=False)
    for info in found:
        count = "" if info.resource_count is None else str(info.resource_count)
        table.add_row(info.name, info.last_update or "never", count)
    output.out.print(table)
    output.err.print(f"state: {config.state_dir} (passphrase from {config.passphrase_source})")


def register(app: typer.Typer) -> None:
    for command in (up, preview, destroy, refresh, outputs, stacks):
        app.command(command.__name__)(command)
