"""``lattice operator run`` as a child process against a test control plane.

``OperatorProcess.start`` launches the real CLI (same ``lattice_pulumi`` as the tests:
``PYTHONPATH`` set), waits until ``/readyz`` answers 200 (leading, primed, kopf ready),
or with ``wait_ready=False`` only until ``/healthz`` does (a standby waiting for the
Lease), and keeps the log in a file. ``metric(name)`` reads one sample of ``/metrics``.
``kill`` is SIGKILL (no Lease release, no cleanup), ``stop`` SIGTERM.
``install_operator_crds`` installs the Lattice CRDs from ``lattice crds`` and the
third-party CRDs the test services need, plus the ``lattice-system`` namespace (the Lease).
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterable
from pathlib import Path

from ruamel.yaml import YAML

import lattice_pulumi
from harness.control_plane import ControlPlane, free_port
from harness.crds import install_crds, shared_crd
from harness.kube import KubeClient

__all__ = ["THIRD_PARTY", "OperatorProcess", "install_operator_crds"]

THIRD_PARTY = (
    ("cilium.io", "CiliumNetworkPolicy"),
    ("security.istio.io", "AuthorizationPolicy"),
    ("security.istio.io", "PeerAuthentication"),
    ("external-secrets.io", "ExternalSecret"),
)


# The real CLI, as the console script runs it.
LATTICE = (sys.executable, "-c", "from lattice_pulumi.cli.main import run; run()")


def _env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("LATTICE_", "KUBECONFIG"))}
    source = str(Path(lattice_pulumi.__file__).resolve().parents[1])
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [source, env.get("PYTHONPATH")]))
    return env


def lattice_crds() -> list[dict[str, object]]:
    """The CRDs ``lattice crds`` prints (the CLI, as a user would run it)."""
    out = subprocess.run(
        [*LATTICE, "crds"],
        check=True,
        capture_output=True,
        text=True,
        env=_env(),
    ).stdout
    return [d for d in YAML(typ="safe").load_all(out) if d]


def install_operator_crds(kube: KubeClient, extra: Iterable[tuple[str, str]] = ()) -> None:
    kube.apply({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "lattice-system"}})
    third = [shared_crd(group, kind) for group, kind in (*THIRD_PARTY, *extra)]
    install_crds(kube, [*lattice_crds(), *third], timeout=120)


class OperatorProcess:
    """One ``lattice operator run`` child process."""

    def __init__(
        self,
        plane: ControlPlane,
        log: Path,
        *,
        lease_duration: float = 3.0,
        cluster: str = "test",
        extra_args: tuple[str, ...] = (),
    ) -> None:
        """``extra_args`` are appended to ``lattice operator run`` (a parent's cell flags)."""
        self.cluster = cluster
        self.extra_args = extra_args
        self.plane = plane
        self.log = log
        self.lease_duration = lease_duration
        self.port = 0
        self.process: subprocess.Popen[bytes] | None = None

    def start(self, timeout: float = 60.0, *, wait_ready: bool = True) -> OperatorProcess:
        self.port = free_port()
        args = [
            *LATTICE,
            "operator",
            "run",
            "--cluster",
            self.cluster,
            "--kubeconfig",
            str(self.plane.kubeconfig_path),
            "--host",
            "127.0.0.1",
            "--port",
            str(self.port),
            "--lease-duration",
            str(self.lease_duration),
            *self.extra_args,
        ]
        with self.log.open("ab") as out:
            self.process = subprocess.Popen(args, stdout=out, stderr=subprocess.STDOUT, env=_env())
        deadline = time.monotonic() + timeout
        while not (self.ready() if wait_ready else self.get("/healthz")[0] == 200):
            if self.process.poll() is not None or time.monotonic() > deadline:
                self.kill()
                raise RuntimeError(f"operator did not get ready:\n{self.log_tail()}")
            time.sleep(0.1)
        return self

    def get(self, path: str) -> tuple[int, str]:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{self.port}{path}", timeout=2) as r:
                return r.status, r.read().decode()
        except urllib.error.HTTPError as exc:
            return exc.code, exc.read().decode()
        except OSError:
            return 0, ""

    def metric(self, name: str) -> float:
        """The value of the first sample of ``name`` (0 when absent)."""
        for line in self.get("/metrics")[1].splitlines():
            if line.startswith(name) and line[len(name) : len(name) + 1] in (" ", "{"):
                return float(line.rsplit(" ", 1)[1])
        return 0.0

    def ready(self) -> bool:
        return self.get("/readyz")[0] == 200

    def log_tail(self, lines: int = 60) -> str:
        return "\n".join(self.log.read_text(errors="replace").splitlines()[-lines:])

    def kill(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.kill()
            self.process.wait(10)

    def stop(self) -> int:
        assert self.process is not None
        if self.process.poll() is None:
            self.process.terminate()
            try:
                return self.process.wait(20)
            except subprocess.TimeoutExpired:
                self.kill()
                raise
        return self.process.returncode
