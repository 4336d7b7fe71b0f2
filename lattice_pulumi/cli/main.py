"""Entry point of the ``lattice`` command: builds the typer app from one module per topic."""

from __future__ import annotations

import typer

from lattice_pulumi.cli import access as access_commands
from lattice_pulumi.cli import fleet as fleet_commands
from lattice_pulumi.cli import mesh as mesh_commands
from lattice_pulumi.cli import pivot as pivot_commands
from lattice_pulumi.cli import policy as policy_commands
from lattice_pulumi.cli import render as render_commands
from lattice_pulumi.cli import spec_commands
from lattice_pulumi.cli import stacks as stack_commands

__all__ = ["app", "run"]

app = typer.Typer(
    name="lattice",
    help="Self-managing Kubernetes fleets with zero-trust networking, on Pulumi.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)
spec_commands.register(app)
policy_commands.register(app)
render_commands.register(app)
mesh_commands.register(app)
stack_commands.register(app)
fleet_commands.register(app)
pivot_commands.register(app)
access_commands.register(app)


def run() -> None:
    """Console-script entry point."""
    app()


if __name__ == "__main__":
    run()
