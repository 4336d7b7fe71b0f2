"""The fleet commands: ``lattice cell ...``, ``lattice agent ...`` and ``lattice get ...``.

``register(app)`` adds three command groups; the commands live in ``cli.fleet_run``
(long-running cell and agent processes, tokens, operator certificates) and
``cli.fleet_get`` (reading the fleet view), their output helpers in ``cli.fleet_view``.
"""

from __future__ import annotations

import typer

from lattice_pulumi.cli import fleet_get, fleet_run

__all__ = ["register"]


def register(app: typer.Typer) -> None:
    """Add the ``cell``, ``agent`` and ``get`` groups to ``app``."""
    cell = typer.Typer(help="Run a cell (parent) and manage its tokens.", no_args_is_help=True)
    agent = typer.Typer(help="Run the agent of a child cluster.", no_args_is_help=True)
    get = typer.Typer(help="Read the fleet view from a cell.", no_args_is_help=True)
    fleet_run.register(cell, agent)
    fleet_get.register(get)
    app.add_typer(cell, name="cell")
    app.add_typer(agent, name="agent")
    app.add_typer(get, name="get")
