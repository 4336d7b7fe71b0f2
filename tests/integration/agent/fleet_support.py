"""Helpers for the fleet tests: a typer app with the fleet commands, an event loop in a
thread (so synchronous CliRunner calls can read a cell running meanwhile), operator
credential files, and ``lattice cell serve`` as a real child process.
"""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
import threading
import time
from collections.abc import Coroutine
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

import typer

import lattice_pulumi
from lattice_pulumi import pki
from lattice_pulumi.cli import fleet

T = TypeVar("T")
WAIT = 10.0

app = typer.Typer(pretty_exceptions_enable=False)
fleet.register(app)

# Runs the app above as a real program: `python fleet_support.py cell serve ...`.
APP_SCRIPT = Path(__file__).resolve()


class LoopThread:
    """An asyncio loop running in a daemon thread; ``run`` blocks until a coroutine ends."""

    def __init__(self) -> None:
        self.loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self._thread.start()

    def run(self, coro: Coroutine[Any, Any, T], timeout: float = WAIT) -> T:
        return asyncio.run_coroutine_threadsafe(coro, self.loop).result(timeout)

    def close(self) -> None:
        async def cancel_rest() -> None:
            rest = [t for t in asyncio.all_tasks() if t is not asyncio.current_task()]
            for task in rest:
                task.cancel()
            await asyncio.gather(*rest, return_exceptions=True)

        self.run(cancel_rest())
        self.run(self.loop.shutdown_asyncgens())
        self.loop.call_soon_threadsafe(self.loop.stop)
        self._thread.join(WAIT)
        self.loop.close()


@dataclass(frozen=True)
class OperatorFiles:
    ca: Path
    cert: Path
    key: Path

    def args(self, server: str) -> list[str]:
        return [
            "--server",
            server,
            "--ca",
            str(self.ca),
            "--cert",
            str(self.cert),
            "--key",
            str(self.key),
        ]


def write_operator_files(
    ca: pki.CertificateAuthority, directory: Path, issued: pki.IssuedCertificate | None = None
) -> OperatorFiles:
    """Operator certificate (``lattice-cli``) and the CA, as ``cell operator-cert`` writes."""
    issued = issued or ca.issue_operator_certificate(pki.OperatorIdentity("lattice-cli"))
    directory.mkdir(parents=True, exist_ok=True)
    files = OperatorFiles(directory / "ca.crt", directory / "op.crt", directory / "op.key")
    files.ca.write_bytes(ca.certificate_pem())
    files.cert.write_bytes(issued.certificate_pem())
    files.key.write_bytes(issued.key_pem())
    return files


class CellProcess:
    """``lattice cell serve`` in a child process; ``grpc``/``enrol`` once it listens."""

    def __init__(
        self, state_dir: Path, log: Path, port: int = 0, *extra: str, name: str = "root"
    ) -> None:
        self.state_dir = state_dir
        serving = state_dir / "serving.json"
        serving.unlink(missing_ok=True)
        args = [
            sys.executable,
            str(APP_SCRIPT),
            "cell",
            "serve",
            "--name",
            name,
            "--state-dir",
            str(state_dir),
            "--port",
            str(port),
            "--enrol-port",
            "0",
            *extra,
        ]
        with log.open("ab") as out:
            self.process = subprocess.Popen(
                args, stdout=out, stderr=subprocess.STDOUT, env=env_without_lattice()
            )
        deadline = time.monotonic() + 15
        while not serving.exists():
            if self.process.poll() is not None or time.monotonic() > deadline:
                self.stop()
                raise RuntimeError(f"cell serve did not start: {log.read_text()[-2000:]}")
            time.sleep(0.02)
        info = json.loads(serving.read_text())
        self.grpc: str = info["grpc"]
        self.enrol: str = info["enrol"]
        self.port = int(self.grpc.rsplit(":", 1)[1])

    def kill(self) -> None:
        self.process.kill()
        self.process.wait(WAIT)

    def stop(self) -> int:
        """SIGTERM and wait; the exit code (the process is killed if it hangs)."""
        if self.process.poll() is None:
            self.process.terminate()
            try:
                return self.process.wait(WAIT)
            except subprocess.TimeoutExpired:
                self.kill()
                raise
        return self.process.returncode


def env_without_lattice(**extra: str) -> dict[str, str]:
    """The environment for child processes: no LATTICE_* settings, and ``PYTHONPATH`` set
    so they import the same ``lattice_pulumi`` as this test process (not an installed copy).
    """
    env = {k: v for k, v in os.environ.items() if not k.startswith("LATTICE_")}
    source = str(Path(lattice_pulumi.__file__).resolve().parents[1])
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [source, env.get("PYTHONPATH")]))
    return {**env, **extra}


if __name__ == "__main__":
    app()


def fleet_clusters(cell: CellProcess, operator_dir: Path) -> dict[str, dict[str, Any]]:
    """``lattice get clusters -o json`` against a running cell, as rows by cluster name."""
    from typer.testing import CliRunner

    args = ["--server", cell.grpc, "--ca", str(operator_dir / "ca.crt")]
    args += ["--cert", str(operator_dir / "lattice-cli.crt")]
    args += ["--key", str(operator_dir / "lattice-cli.key")]
    result = CliRunner().invoke(app, ["get", "clusters", "-o", "json", *args])
    assert result.exit_code == 0, result.output
    return {c["name"]: c for c in json.loads(result.stdout)}
