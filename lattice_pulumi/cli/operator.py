"""``lattice operator run``: the in-cluster operator (kopf), one per cluster behind a Lease."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Annotated

import typer

from lattice_pulumi.cli.fleet_run import _run

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
) -> None:
    """Keep this cluster's Lattice objects converged (kopf; leader election by Lease)."""
    from lattice_pulumi.operator.runner import OperatorConfig, run_operator

    config = OperatorConfig(
        cluster=cluster,
        kubeconfig=kubeconfig,
        namespace=namespace,
        lease_duration=lease_duration,
        host=host,
        port=port,
        workers=workers,
        cluster_resync=cluster_resync,
    )
    code = 0

    async def main(stop: asyncio.Event) -> None:
        nonlocal code
        code = await run_operator(config, stop)

    _run(main)
    if code:
        raise typer.Exit(code)


def register(app: typer.Typer) -> None:
    operator = typer.Typer(help="Run the in-cluster operator.", no_args_is_help=True)
    operator.command("run")(run_operator_command)
    app.add_typer(operator, name="operator")
