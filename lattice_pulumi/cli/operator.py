"""``lattice operator run``: the in-cluster operator (kopf), one per cluster behind a Lease."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Annotated

import typer

from lattice_pulumi.cell.link import FleetLink
from lattice_pulumi.cell.state import CellState
from lattice_pulumi.cli import output
from lattice_pulumi.cli.fleet_run import _run
from lattice_pulumi.errors import LatticeError

__all__ = ["register"]


def run_operator_command(
    cluster: Annotated[
        str, typer.Option("--cluster", envvar="LATTICE_CLUSTER_NAME", help="This cluster's name.")
    ] = "local",
    kubeconfig: Annotated[
        Path | None,
        typer.Option("--kubeconfig", envvar="LATTICE_KUBECONFIG", help="Out of cluster only."),
    ] = None,
    namespace: Annotated[
        str, typer.Option("--namespace", envvar="LATTICE_NAMESPACE", help="Where the Lease lives.")
    ] = "lattice-system",
    lease_duration: Annotated[
        float, typer.Option("--lease-duration", envvar="LATTICE_LEASE_DURATION")
    ] = 15.0,
    host: Annotated[str, typer.Option("--host", envvar="LATTICE_OPERATOR_HOST")] = "0.0.0.0",
    port: Annotated[
        int,
        typer.Option("--port", envvar="LATTICE_OPERATOR_PORT", help="/healthz /readyz /metrics."),
    ] = 8080,
    workers: Annotated[int, typer.Option("--workers", help="Dependent reconciles at once.")] = 4,
    cluster_resync: Annotated[
        float,
        typer.Option(
            "--cluster-resync",
            envvar="LATTICE_CLUSTER_RESYNC",
            min=0.1,
            help="Seconds between reconciles of this cluster's own LatticeCluster.",
        ),
    ] = 10.0,
    cell_state_dir: Annotated[
        Path | None,
        typer.Option(
            "--cell-state-dir",
            envvar="LATTICE_CELL_STATE_DIR",
            help="This parent's cell state (CA, tokens): provision child LatticeClusters.",
        ),
    ] = None,
    cell_server: Annotated[
        str,
        typer.Option("--cell-server", envvar="LATTICE_CELL_SERVER", help="Cell gRPC host:port."),
    ] = "127.0.0.1:50051",
    cell_bootstrap_url: Annotated[
        str,
        typer.Option(
            "--cell-bootstrap-url",
            envvar="LATTICE_CELL_BOOTSTRAP_URL",
            help="https://host:port of the cell's bootstrap server as new nodes reach it.",
        ),
    ] = "",
    children_refresh: Annotated[
        float, typer.Option("--children-refresh", help="Seconds between add-on health reads.")
    ] = 30.0,
    children_wait: Annotated[
        float, typer.Option("--children-wait", help="Seconds between provisioning checks.")
    ] = 10.0,
) -> None:
    """Keep this cluster's Lattice objects converged (kopf; leader election by Lease).

    With ``--cell-state-dir`` it also provisions, enrols and pivots every LatticeCluster
    that is not its own cluster (a parent).
    """
    from lattice_pulumi.operator.runner import OperatorConfig, run_operator

    link = _cell_link(cell_state_dir, cell_server, cell_bootstrap_url)

    config = OperatorConfig(
        cluster=cluster,
        kubeconfig=kubeconfig,
        namespace=namespace,
        lease_duration=lease_duration,
        host=host,
        port=port,
        workers=workers,
        cluster_resync=cluster_resync,
        children_refresh=children_refresh,
        children_wait=children_wait,
    )
    code = 0

    async def main(stop: asyncio.Event) -> None:
        nonlocal code
        code = await run_operator(config, stop, cell_link=link)

    _run(main)
    if code:
        raise typer.Exit(code)


def _cell_link(state_dir: Path | None, server: str, bootstrap_url: str) -> FleetLink | None:
    if state_dir is None:
        return None
    if not bootstrap_url.startswith("https://"):
        output.fail(
            LatticeError("--cell-bootstrap-url: expected https://host:port of the cell"), code=2
        )
    try:
        state = CellState.open(state_dir, "cell", create=False)
    except LatticeError as exc:
        output.fail(exc, code=2)
    return FleetLink(state, server=server, bootstrap_endpoint=bootstrap_url)


def register(app: typer.Typer) -> None:
    operator = typer.Typer(help="Run the in-cluster operator.", no_args_is_help=True)
    operator.command("run")(run_operator_command)
    app.add_typer(operator, name="operator")
