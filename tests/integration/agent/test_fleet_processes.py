"""``lattice cell serve`` and ``lattice agent run`` as real processes on loopback.

Enrolment end to end through ``lattice cell token``; clean shutdown on SIGTERM; every agent
back within 15 s after the cell process is killed and restarted on the same state dir.
"""

from __future__ import annotations

import asyncio
import os
import signal
import stat
import subprocess
import sys
import time
from pathlib import Path

from conftest import RunningAgents, eventually, issue_credentials
from fleet_support import APP_SCRIPT, CellProcess, app, env_without_lattice, fleet_clusters
from typer.testing import CliRunner

from lattice_pulumi import pki
from lattice_pulumi.agent import AgentCredentials
from lattice_pulumi.cell import CellState

runner = CliRunner()
RECONNECT_BOUND = 15.0


def fleet_names(cell: CellProcess, operator_dir: Path) -> dict[str, str]:
    return {name: row["agent"]["state"] for name, row in fleet_clusters(cell, operator_dir).items()}


def test_enrolment_through_the_token_command_and_agent_run(tmp_path: Path) -> None:
    state, log = tmp_path / "state", tmp_path / "cell.log"
    cell = CellProcess(state, log)
    agent: subprocess.Popen[bytes] | None = None
    try:
        issued = runner.invoke(app, ["cell", "token", "alpha", "--state-dir", str(state)])
        assert issued.exit_code == 0, issued.output
        token = issued.stdout.strip()
        assert token.startswith("lt1.") and "for cluster alpha, expires" in issued.stderr
        assert stat.S_IMODE((state / "tokens.json").stat().st_mode) == 0o600
        made = runner.invoke(
            app,
            ["cell", "operator-cert", "--state-dir", str(state), "--out-dir", str(tmp_path / "op")],
        )
        assert made.exit_code == 0, made.output

        credentials = tmp_path / "agent"
        env = env_without_lattice(
            LATTICE_BOOTSTRAP_TOKEN=token,
            LATTICE_ENROL_URL=cell.enrol,
            LATTICE_PARENT_CA=str(state / "ca.crt"),
        )
        with (tmp_path / "agent.log").open("wb") as out:
            agent = subprocess.Popen(
                [
                    sys.executable,
                    str(APP_SCRIPT),
                    "agent",
                    "run",
                    "--cluster",
                    "alpha",
                    "--endpoint",
                    cell.grpc,
                    "--credentials-dir",
                    str(credentials),
                    "--heartbeat-interval",
                    "0.2",
                    "--provider",
                    "docker",
                ],
                stdout=out,
                stderr=subprocess.STDOUT,
                env=env,
            )
        deadline = time.monotonic() + 15
        while fleet_names(cell, tmp_path / "op").get("alpha") != "connected":
            assert agent.poll() is None, (tmp_path / "agent.log").read_text()
            assert time.monotonic() < deadline, "agent did not connect within 15 s"
            time.sleep(0.1)
        assert stat.S_IMODE((credentials / "tls.key").stat().st_mode) == 0o600

        agent.send_signal(signal.SIGTERM)
        assert agent.wait(10) == 0
        assert cell.stop() == 0
    finally:
        if agent is not None and agent.poll() is None:
            agent.kill()
            agent.wait(10)
        cell.stop()
    agent_log, cell_log = (tmp_path / "agent.log").read_text(), log.read_text()
    assert "enrolled cluster alpha" in agent_log and "agent alpha stopped" in agent_log
    assert "cell root stopped" in cell_log
    assert not (state / "serving.json").exists()
    secret = token.split(".")[2]
    assert secret not in agent_log and secret not in cell_log


async def test_every_agent_is_back_within_15_s_after_the_cell_restarts(
    tmp_path: Path, agents: RunningAgents
) -> None:
    state = CellState.open(tmp_path / "state", "root")
    log = tmp_path / "cell.log"
    cell = await asyncio.to_thread(CellProcess, state.directory, log)
    try:
        running = [
            agents.start(agents.make(f"c{i}", cell.grpc, issue_credentials(state.ca, f"c{i}")))
            for i in range(8)
        ]
        await eventually(lambda: all(a.connected.is_set() for a in running))

        await asyncio.to_thread(cell.kill)
        await eventually(lambda: not any(a.connected.is_set() for a in running))
        started = time.monotonic()
        cell = await asyncio.to_thread(CellProcess, state.directory, log, cell.port)
        await eventually(
            lambda: all(a.connected.is_set() and a.sessions >= 2 for a in running),
            timeout=RECONNECT_BOUND,
        )
        assert time.monotonic() - started < RECONNECT_BOUND
    finally:
        await agents.stop_all()
        assert await asyncio.to_thread(cell.stop) == 0, log.read_text()[-2000:]


def test_serve_refuses_half_a_parent_configuration(tmp_path: Path) -> None:
    result = runner.invoke(
        app,
        ["cell", "serve", "--name", "prod", "--state-dir", str(tmp_path), "--parent", "x:1"],
        env={k: "" for k in os.environ if k.startswith("LATTICE_")},
    )
    assert result.exit_code == 2
    assert result.stderr.strip() == "error --parent and --parent-credentials-dir go together"


def test_a_parent_cell_reports_its_subtree_upward(tmp_path: Path) -> None:
    """root <- prod (cell serve --parent) <- us-east (agent run): three processes."""
    root_state = CellState.open(tmp_path / "root", "root")
    prod_state = CellState.open(tmp_path / "prod", "prod")
    identity = pki.ClusterIdentity("prod")
    key = pki.generate_private_key()
    cert = root_state.ca.sign_client_csr(pki.build_csr(key, identity), identity)
    AgentCredentials(key, cert, root_state.ca.certificate_pem()).save(tmp_path / "prod-up")
    us_east = issue_credentials(prod_state.ca, "us-east")
    us_east.save(tmp_path / "us-east")
    runner.invoke(
        app,
        [
            "cell",
            "operator-cert",
            "--state-dir",
            str(root_state.directory),
            "--out-dir",
            str(tmp_path / "op"),
        ],
    )
    log = tmp_path / "fleet.log"
    root = CellProcess(root_state.directory, log)
    prod: CellProcess | None = None
    agent: subprocess.Popen[bytes] | None = None
    try:
        prod = CellProcess(
            prod_state.directory,
            log,
            0,
            "--parent",
            root.grpc,
            "--parent-credentials-dir",
            str(tmp_path / "prod-up"),
            "--heartbeat-interval",
            "0.2",
            name="prod",
        )
        with log.open("ab") as out:
            agent = subprocess.Popen(
                [
                    sys.executable,
                    str(APP_SCRIPT),
                    "agent",
                    "run",
                    "--cluster",
                    "us-east",
                    "--endpoint",
                    prod.grpc,
                    "--credentials-dir",
                    str(tmp_path / "us-east"),
                    "--heartbeat-interval",
                    "0.2",
                ],
                stdout=out,
                stderr=subprocess.STDOUT,
                env=env_without_lattice(),
            )
        deadline = time.monotonic() + 15
        while fleet_names(root, tmp_path / "op").get("us-east") != "connected":
            assert time.monotonic() < deadline, log.read_text()[-3000:]
            time.sleep(0.1)
        result = runner.invoke(
            app,
            [
                "get",
                "hierarchy",
                "--server",
                root.grpc,
                "--ca",
                str(tmp_path / "op/ca.crt"),
                "--cert",
                str(tmp_path / "op/lattice-cli.crt"),
                "--key",
                str(tmp_path / "op/lattice-cli.key"),
            ],
        )
        assert [line.rstrip() for line in result.stdout.splitlines()] == [
            "root  Unknown  serving",
            "└── prod  Unknown  connected",
            "    └── us-east  Unknown  connected",
        ]
    finally:
        if agent is not None:
            agent.terminate()
            assert agent.wait(10) == 0
        if prod is not None:
            assert prod.stop() == 0
        assert root.stop() == 0
