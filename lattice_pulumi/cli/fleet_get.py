"""``lattice get clusters|cluster|hierarchy|health``: read the fleet view from a cell.

Each command calls ``FleetService.GetFleet`` on the cell's mTLS port with an operator
certificate (``lattice cell operator-cert``) and prints through ``cli.fleet_view``. The
connection comes from flags or ``LATTICE_CELL_SERVER``, ``LATTICE_CELL_CA``,
``LATTICE_CELL_CERT``, ``LATTICE_CELL_KEY`` (and ``LATTICE_CELL_TLS_SERVER_NAME`` when the
address is not in the cell's certificate). ``-o json|yaml`` print data instead of tables.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any

import grpc
import typer

from lattice_pulumi.cli import fleet_view, output
from lattice_pulumi.errors import LatticeError
from lattice_pulumi.protocol import channel_options, pb, pb_grpc
from lattice_pulumi.spec import yamlout

__all__ = ["CellEndpoint", "fetch_fleet", "register"]


class Format(StrEnum):
    text = "text"
    json = "json"
    yaml = "yaml"


@dataclass(frozen=True)
class CellEndpoint:
    """Where the cell's read API is and the operator credentials to present."""

    server: str
    ca: Path
    cert: Path
    key: Path
    tls_server_name: str | None = None


def fetch_fleet(endpoint: CellEndpoint, timeout: float = 10.0) -> pb.FleetView:
    """``GetFleet`` over mTLS; gRPC and file errors become one-line ``LatticeError``s."""
    try:
        credentials = grpc.ssl_channel_credentials(
            root_certificates=endpoint.ca.read_bytes(),
            private_key=endpoint.key.read_bytes(),
            certificate_chain=endpoint.cert.read_bytes(),
        )
    except OSError as exc:
        raise LatticeError(f"cannot read {exc.filename}: {exc.strerror}") from None
    options: list[tuple[str, Any]] = channel_options(client=True)
    if endpoint.tls_server_name:
        options.append(("grpc.ssl_target_name_override", endpoint.tls_server_name))
    with grpc.secure_channel(endpoint.server, credentials, options=options) as channel:
        try:
            view: pb.FleetView = pb_grpc.FleetServiceStub(channel).GetFleet(
                pb.GetFleetRequest(), timeout=timeout
            )
        except grpc.RpcError as exc:
            code = exc.code().name if hasattr(exc, "code") else "UNKNOWN"
            details = exc.details() if hasattr(exc, "details") else str(exc)
            raise LatticeError(f"cell {endpoint.server}: {code}: {details}") from None
    return view


Server = Annotated[
    str, typer.Option("--server", envvar="LATTICE_CELL_SERVER", help="Cell address host:port.")
]
Ca = Annotated[
    Path, typer.Option("--ca", envvar="LATTICE_CELL_CA", help="The cell's CA certificate.")
]
Cert = Annotated[
    Path, typer.Option("--cert", envvar="LATTICE_CELL_CERT", help="Operator certificate.")
]
Key = Annotated[Path, typer.Option("--key", envvar="LATTICE_CELL_KEY", help="Operator key.")]
ServerName = Annotated[
    str | None,
    typer.Option(
        "--tls-server-name",
        envvar="LATTICE_CELL_TLS_SERVER_NAME",
        help="Name to expect in the cell's certificate.",
    ),
]
Output = Annotated[Format, typer.Option("-o", "--output", help="text, json or yaml.")]


def _load(server: str, ca: Path, cert: Path, key: Path, name: str | None) -> pb.FleetView:
    try:
        return fetch_fleet(CellEndpoint(server, ca, cert, key, name))
    except LatticeError as exc:
        output.fail(exc)


def _now_ms() -> int:
    return int(time.time() * 1000)


def _print_data(data: Any, fmt: Format) -> None:
    if fmt is Format.json:
        output.print_json(data)
        return
    output.out.print(yamlout.dump(_sorted(data)), end="", markup=False, highlight=False)


def _sorted(data: Any) -> Any:
    """Keys sorted at every level, as in the JSON output."""
    if isinstance(data, dict):
        return {key: _sorted(data[key]) for key in sorted(data)}
    if isinstance(data, list):
        return [_sorted(item) for item in data]
    return data


def get_clusters(
    server: Server,
    ca: Ca,
    cert: Cert,
    key: Key,
    tls_server_name: ServerName = None,
    out_format: Output = Format.text,
) -> None:
    """List every cluster the cell knows, by depth then name."""
    clusters = fleet_view.clusters_of(_load(server, ca, cert, key, tls_server_name))
    if out_format is Format.text:
        output.out.print(fleet_view.format_clusters_table(clusters, _now_ms()))
    else:
        _print_data([fleet_view.cluster_data(c) for c in clusters], out_format)


def get_cluster(
    name: Annotated[str, typer.Argument(help="Cluster name.")],
    server: Server,
    ca: Ca,
    cert: Cert,
    key: Key,
    tls_server_name: ServerName = None,
    out_format: Output = Format.text,
) -> None:
    """Show one cluster: nodes, pools, conditions, agent."""
    clusters = fleet_view.clusters_of(_load(server, ca, cert, key, tls_server_name))
    found = [c for c in clusters if c.name == name]
    if not found:
        known = ", ".join(c.name for c in clusters)
        output.fail(LatticeError(f"no cluster {name!r} in the fleet (known: {known})"))
    if out_format is Format.text:
        output.out.print(fleet_view.format_cluster_detail(found[0], _now_ms()))
    else:
        _print_data(fleet_view.cluster_data(found[0]), out_format)


def get_hierarchy(
    server: Server,
    ca: Ca,
    cert: Cert,
    key: Key,
    tls_server_name: ServerName = None,
    out_format: Output = Format.text,
) -> None:
    """Print the fleet as a tree under the cell."""
    clusters = fleet_view.clusters_of(_load(server, ca, cert, key, tls_server_name))
    if out_format is Format.text:
        output.out.print(fleet_view.format_hierarchy(clusters))
    else:
        _print_data(fleet_view.hierarchy_data(clusters), out_format)


def get_health(
    server: Server,
    ca: Ca,
    cert: Cert,
    key: Key,
    tls_server_name: ServerName = None,
    out_format: Output = Format.text,
) -> None:
    """Nodes, agent connection and last heartbeat of every cluster."""
    clusters = fleet_view.clusters_of(_load(server, ca, cert, key, tls_server_name))
    now = _now_ms()
    if out_format is Format.text:
        output.out.print(fleet_view.format_health_table(clusters, now))
    else:
        _print_data([fleet_view.health_data(c, now) for c in clusters], out_format)


def register(get: typer.Typer) -> None:
    """Add the fleet commands to the ``get`` group."""
    get.command("clusters")(get_clusters)
    get.command("cluster")(get_cluster)
    get.command("hierarchy")(get_hierarchy)
    get.command("health")(get_health)
