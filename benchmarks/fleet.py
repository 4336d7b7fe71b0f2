"""Measure one cell under N agents: connect time, heartbeats/s, cell CPU and RSS.

The cell runs in a child process (this script with ``--serve-cell``) so its CPU and memory
are its own: CPU is read from ``/proc/<pid>/stat`` (user + system time over wall time, as a
fraction of one core), memory from ``/proc/<pid>/status`` (VmRSS now, VmHWM peak). The N
agents are real ``Agent`` objects with their own mTLS channels, all in this process's event
loop. Everything is on 127.0.0.1. The cell reports its heartbeat total once a second.

    python benchmarks/fleet.py [--agents 1000] [--heartbeat 10] [--duration 30]

Target (ISSUE 9): 1,000 agents at a 10 s heartbeat under half a core and 500 MiB in the cell.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import lattice_pulumi
from lattice_pulumi import pki
from lattice_pulumi.agent import Agent, AgentConfig, AgentCredentials, StatusHolder
from lattice_pulumi.cell import CellConfig, CellServer, CellState
from lattice_pulumi.protocol import pb

TICKS = os.sysconf("SC_CLK_TCK")


async def serve_cell(state_dir: Path) -> None:
    """Child process: run a cell on a free port and print its heartbeat total every second."""
    state = CellState.open(state_dir, "bench", create=False)
    certificate = state.ca.issue_server_certificate(["127.0.0.1"])
    cell = CellServer(CellConfig("bench"), pki.CellAuthority(state.ca), certificate)
    await cell.start()
    print(json.dumps({"port": cell.port}), flush=True)
    try:
        while True:
            records = cell.registry.get_clusters()
            total = sum(r.heartbeats for r in records)
            connected = sum(1 for r in records if r.connected)
            print(json.dumps({"heartbeats": total, "connected": connected}), flush=True)
            await asyncio.sleep(1.0)
    finally:
        await cell.stop(1.0)


def cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / TICKS  # utime, stime


def memory_mib(pid: int) -> tuple[float, float]:
    values = {}
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        key, _, rest = line.partition(":")
        if key in ("VmRSS", "VmHWM"):
            values[key] = int(rest.split()[0]) / 1024
    return values["VmRSS"], values["VmHWM"]


class CellReports:
    """Reads the cell's one-line JSON reports from its stdout in the background."""

    def __init__(self, process: asyncio.subprocess.Process) -> None:
        self.process = process
        self.latest: dict[str, int] = {}
        self.port = asyncio.get_running_loop().create_future()
        self.task = asyncio.create_task(self._read())

    async def _read(self) -> None:
        assert self.process.stdout is not None
        async for line in self.process.stdout:
            data = json.loads(line)
            if "port" in data:
                self.port.set_result(data["port"])
            else:
                self.latest = data


def make_credentials(ca: pki.CertificateAuthority, name: str) -> AgentCredentials:
    key = pki.generate_private_key()
    identity = pki.ClusterIdentity(name)
    cert = ca.sign_client_csr(pki.build_csr(key, identity), identity)
    return AgentCredentials(key, cert, ca.certificate_pem())


async def run(agents: int, heartbeat: float, duration: float) -> None:
    with tempfile.TemporaryDirectory(prefix="lattice-bench-") as tmp:
        state = CellState.open(Path(tmp), "bench")
        print(f"issuing {agents} client certificates ...", flush=True)
        credentials = [make_credentials(state.ca, f"c{i:05d}") for i in range(agents)]
        # The child imports the same lattice_pulumi as this process, installed or not.
        source = str(Path(lattice_pulumi.__file__).resolve().parents[1])
        env = {
            **os.environ,
            "PYTHONPATH": os.pathsep.join([source, os.environ.get("PYTHONPATH", "")]),
        }
        process = await asyncio.create_subprocess_exec(
            sys.executable, __file__, "--serve-cell", tmp, stdout=subprocess.PIPE, env=env
        )
        reports = CellReports(process)
        tasks: list[asyncio.Task[None]] = []
        running: list[Agent] = []
        try:
            port = await asyncio.wait_for(reports.port, 30)
            idle_rss, _ = memory_mib(process.pid)
            status = StatusHolder()
            status.update(pb.CLUSTER_STATE_READY, control_plane=(3, 3), workers=(5, 5))
            started = time.monotonic()
            for i, creds in enumerate(credentials):
                config = AgentConfig(
                    cluster=f"c{i:05d}",
                    endpoint=f"127.0.0.1:{port}",
                    heartbeat_interval=heartbeat,
                    connect_timeout=60,
                    backoff_initial=0.5,
                    backoff_max=5,
                )
                agent = Agent(config, creds, status)
                running.append(agent)
                tasks.append(asyncio.create_task(agent.run()))
            async with asyncio.timeout(120):
                while sum(a.connected.is_set() for a in running) < agents:
                    await asyncio.sleep(0.05)
            connect = time.monotonic() - started
            print(f"{agents} agents connected in {connect:.2f} s", flush=True)

            await asyncio.sleep(min(heartbeat, 5))  # let the first wave of beats settle
            beats0, cpu0 = reports.latest["heartbeats"], cpu_seconds(process.pid)
            wall0 = time.monotonic()
            await asyncio.sleep(duration)
            beats1, cpu1 = reports.latest["heartbeats"], cpu_seconds(process.pid)
            wall1 = time.monotonic()
            rss, peak = memory_mib(process.pid)
            rate = (beats1 - beats0) / (wall1 - wall0)
            cpu = (cpu1 - cpu0) / (wall1 - wall0)
            print(
                json.dumps(
                    {
                        "agents": agents,
                        "heartbeatIntervalS": heartbeat,
                        "windowS": round(wall1 - wall0, 1),
                        "connectS": round(connect, 2),
                        "connectedAtEnd": reports.latest["connected"],
                        "heartbeatsPerS": round(rate, 1),
                        "cellCpuCores": round(cpu, 3),
                        "cellCpuPerHeartbeatUs": round(cpu / rate * 1e6, 1) if rate else None,
                        "cellRssMiB": round(rss, 1),
                        "cellPeakRssMiB": round(peak, 1),
                        "cellIdleRssMiB": round(idle_rss, 1),
                    },
                    indent=2,
                ),
                flush=True,
            )
        finally:
            for agent in running:
                await agent.stop()
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(30):
                    await asyncio.gather(*tasks, return_exceptions=True)
            process.terminate()
            await process.wait()
            reports.task.cancel()
            await asyncio.gather(reports.task, return_exceptions=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--agents", type=int, default=1000)
    parser.add_argument("--heartbeat", type=float, default=10.0, help="seconds")
    parser.add_argument("--duration", type=float, default=30.0, help="measurement window, s")
    parser.add_argument("--serve-cell", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve_cell is not None:
        with contextlib.suppress(KeyboardInterrupt):
            asyncio.run(serve_cell(args.serve_cell))
        return
    asyncio.run(run(args.agents, args.heartbeat, args.duration))


if __name__ == "__main__":
    main()
