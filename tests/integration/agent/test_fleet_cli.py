"""``lattice get ...`` with CliRunner against real cells running in a background event loop.

The fleet: root <- prod (a parent running its own cell) <- us-east, and root <- dev. Every
link is real mTLS gRPC on loopback; the CLI reads root's FleetService with an operator
certificate, as an operator would.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from conftest import FAST, WAIT, issue_credentials
from fleet_support import LoopThread, OperatorFiles, app, write_operator_files
from ruamel.yaml import YAML
from typer.testing import CliRunner, Result

from lattice_pulumi import pki
from lattice_pulumi.agent import Agent, AgentConfig, StatusHolder
from lattice_pulumi.cell import CellConfig, CellServer, ClusterRegistry
from lattice_pulumi.protocol import pb

runner = CliRunner()


@dataclass
class Fleet:
    root: CellServer
    operator: OperatorFiles

    def invoke(self, *args: str, operator: OperatorFiles | None = None) -> Result:
        files = operator or self.operator
        return runner.invoke(app, [*args, *files.args(self.root.endpoint)], terminal_width=200)


def status(workers: tuple[int, int], *pools: tuple[str, int, int]) -> StatusHolder:
    holder = StatusHolder()
    holder.update(
        pb.CLUSTER_STATE_READY,
        control_plane=(3, 3),
        workers=workers,
        pools=[
            pb.NodePool(name=n, nodes=pb.NodeCounts(ready=r, total=t), instance_type="m7i.large")
            for n, r, t in pools
        ],
        conditions=[pb.Condition(type="Ready", status="True", reason="AllNodesReady")],
    )
    return holder


def us_east_seen(registry: ClusterRegistry) -> bool:
    prod = registry.get("prod")
    return prod is not None and any(
        c.name == "us-east" and c.connected and c.state == pb.CLUSTER_STATE_READY
        for c in prod.subtree
    )


@pytest.fixture(scope="module")
def fleet(
    ca: pki.CertificateAuthority,
    server_certificate: pki.IssuedCertificate,
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[Fleet]:
    thread = LoopThread()
    authority = pki.CellAuthority(ca)

    async def start() -> tuple[list[CellServer], dict[Agent, asyncio.Task[None]]]:
        root = CellServer(CellConfig("root", provider="docker"), authority, server_certificate)
        prod = CellServer(CellConfig("prod", role="parent"), authority, server_certificate)
        await root.start()
        await prod.start()

        def agent(name: str, cell: CellServer, holder: StatusHolder, **extra: object) -> Agent:
            config = AgentConfig(
                cluster=name,
                endpoint=cell.endpoint,
                provider="aws",
                kubernetes_version="v1.33.1",
                **{**FAST, **extra},  # type: ignore[arg-type]
            )
            return Agent(
                config,
                issue_credentials(ca, name),
                holder,
                subtree=prod.registry.subtree_snapshot if name == "prod" else None,
            )

        running = [
            agent("prod", root, status((5, 5), ("general", 5, 5)), role="parent"),
            agent("us-east", prod, status((4, 5), ("general", 3, 3), ("gpu", 1, 2))),
            agent("dev", root, status((1, 1))),
        ]
        tasks = {a: asyncio.create_task(a.run()) for a in running}
        await root.registry.wait_until(us_east_seen, WAIT)
        await root.registry.wait_until(
            lambda r: (rec := r.get("dev")) is not None and rec.heartbeats >= 1, WAIT
        )
        return [root, prod], tasks

    async def stop(cells: list[CellServer], tasks: dict[Agent, asyncio.Task[None]]) -> None:
        for a, task in tasks.items():
            await a.stop()
            await task
        for cell in cells:
            await cell.stop(None)

    cells, running = thread.run(start())
    operator = write_operator_files(ca, tmp_path_factory.mktemp("operator"))
    try:
        yield Fleet(cells[0], operator)
    finally:
        thread.run(stop(cells, running))
        thread.close()


def test_get_hierarchy_draws_three_levels(fleet: Fleet) -> None:
    result = fleet.invoke("get", "hierarchy")
    assert result.exit_code == 0, result.output
    assert [line.rstrip() for line in result.stdout.splitlines()] == [
        "root  Unknown  serving",
        "├── dev  Ready  connected",
        "└── prod  Ready  connected",
        "    └── us-east  Ready  connected",
    ]


def test_get_clusters_sorted_by_depth_then_name(fleet: Fleet) -> None:
    result = fleet.invoke("get", "clusters")
    assert result.exit_code == 0, result.output
    rows = [line.split() for line in result.stdout.splitlines()]
    assert rows[0] == ["NAME", "PHASE", "PROVIDER", "K8S", "CP", "WORKERS", "ROLE", "AGE"]
    assert [r[:7] for r in rows[1:]] == [
        ["root", "Unknown", "docker", "-", "0/0", "0/0", "root"],
        ["dev", "Ready", "aws", "v1.33.1", "3/3", "1/1", "leaf"],
        ["prod", "Ready", "aws", "v1.33.1", "3/3", "5/5", "parent"],
        ["us-east", "Ready", "aws", "v1.33.1", "3/3", "4/5", "leaf"],
    ]


def test_get_cluster_shows_pools_and_conditions(fleet: Fleet) -> None:
    result = fleet.invoke("get", "cluster", "us-east")
    assert result.exit_code == 0, result.output
    assert "Parent:          prod" in result.stdout
    assert "gpu      1/2    m7i.large" in result.stdout
    assert "Ready      True    AllNodesReady" in result.stdout


def test_get_cluster_of_an_unknown_name(fleet: Fleet) -> None:
    result = fleet.invoke("get", "cluster", "nope")
    assert result.exit_code == 1
    assert result.stderr.strip() == (
        "error no cluster 'nope' in the fleet (known: root, dev, prod, us-east)"
    )


def test_get_health_as_json_and_yaml(fleet: Fleet) -> None:
    as_json = fleet.invoke("get", "health", "-o", "json")
    assert as_json.exit_code == 0, as_json.output
    health = {h["name"]: h for h in json.loads(as_json.stdout)}
    assert health["us-east"]["agent"] == "connected"
    assert health["us-east"]["lastHeartbeat"].endswith("Z")
    assert 0 <= health["us-east"]["lastHeartbeatAgeSeconds"] < WAIT
    as_yaml = fleet.invoke("get", "health", "-o", "yaml")
    assert as_yaml.exit_code == 0, as_yaml.output
    assert [h["name"] for h in YAML(typ="safe").load(as_yaml.stdout)] == list(health)


def test_get_health_table_has_a_timestamp_and_an_age(fleet: Fleet) -> None:
    result = fleet.invoke("get", "health")
    assert result.exit_code == 0, result.output
    dev = next(line.split() for line in result.stdout.splitlines() if line.startswith("dev"))
    assert dev[:5] == ["dev", "Ready", "3/3", "1/1", "connected"]
    assert dev[5].endswith("Z") and dev[6].endswith("s")


def test_a_cluster_certificate_is_refused_in_one_line(
    fleet: Fleet, ca: pki.CertificateAuthority, tmp_path: Path
) -> None:
    child = issue_credentials(ca, "dev")
    files = write_operator_files(ca, tmp_path, pki.IssuedCertificate(child.certificate, child.key))
    result = fleet.invoke("get", "clusters", operator=files)
    assert result.exit_code == 1
    assert result.stderr.strip() == (
        f"error cell {fleet.root.endpoint}: PERMISSION_DENIED: reading the fleet needs an "
        "operator certificate: certificate does not carry an operator identity"
    )


def test_connection_settings_come_from_the_environment(fleet: Fleet) -> None:
    env = {
        "LATTICE_CELL_SERVER": fleet.root.endpoint,
        "LATTICE_CELL_CA": str(fleet.operator.ca),
        "LATTICE_CELL_CERT": str(fleet.operator.cert),
        "LATTICE_CELL_KEY": str(fleet.operator.key),
    }
    result = runner.invoke(app, ["get", "clusters", "-o", "json"], env=env)
    assert result.exit_code == 0, result.output
    assert [c["name"] for c in json.loads(result.stdout)] == ["root", "dev", "prod", "us-east"]
