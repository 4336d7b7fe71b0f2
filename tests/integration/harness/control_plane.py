"""A real Kubernetes control plane on loopback: etcd + kube-apiserver (+ controller-manager).

Everything lives in one temporary directory (data, certificates, logs, kubeconfig) and
listens on free 127.0.0.1 ports, so several control planes can run side by side. Stop is
safe to call twice and always ends every process it started (terminate, wait, kill).
"""

from __future__ import annotations

import base64
import contextlib
import ctypes
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

from . import pki
from .kube import ApiError, KubeClient
from .tools import Tool, require_tools

ADMIN_TOKEN_USER = "lattice-token-admin"
SERVICE_CLUSTER_IP_RANGE = "10.96.0.0/16"  # room for the 1,000-service operator benchmark
_PR_SET_PDEATHSIG = 1


def _die_with_parent() -> None:
    """In the child before exec: get SIGTERM if the test process dies (Linux), so an
    interrupted run leaves no servers behind. Tied to the starting thread: start control
    planes from the main thread."""
    with contextlib.suppress(OSError, AttributeError):
        ctypes.CDLL(None, use_errno=True).prctl(_PR_SET_PDEATHSIG, int(signal.SIGTERM))


def free_port() -> int:
    """A TCP port that was free on 127.0.0.1 a moment ago."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class _Process:
    name: str
    popen: subprocess.Popen[bytes]
    log_path: Path
    log_file: IO[bytes]

    def log_tail(self, lines: int = 30) -> str:
        self.log_file.flush()
        text = self.log_path.read_text(errors="replace").splitlines()
        return "\n".join(text[-lines:])


class ControlPlaneError(RuntimeError):
    """The control plane did not come up; the message carries the logs' last lines."""


@dataclass
class ControlPlane:
    """One running control plane. Build it with :func:`start_control_plane`."""

    name: str
    directory: Path
    tools: dict[str, Tool]
    with_controller_manager: bool = True
    etcd_port: int = 0
    apiserver_port: int = 0
    token: str = ""
    started_in: float = 0.0
    _processes: list[_Process] = field(default_factory=list)
    _pki: pki.Pki | None = None
    _client: KubeClient | None = None

    # -- what tests use -------------------------------------------------------------------

    @property
    def server(self) -> str:
        """HTTPS URL of the API server."""
        return f"https://127.0.0.1:{self.apiserver_port}"

    @property
    def certs(self) -> pki.Pki:
        """Paths of the generated CA, serving, admin and service-account PEM files."""
        assert self._pki is not None, "control plane not started"
        return self._pki

    @property
    def ca_file(self) -> Path:
        """The CA that signed the serving and admin certificates."""
        return self.certs.ca_cert

    @property
    def kubeconfig_path(self) -> Path:
        """Admin kubeconfig (client certificate in system:masters)."""
        return self.directory / "admin.kubeconfig"

    @property
    def kubeconfig(self) -> str:
        """The admin kubeconfig's text (JSON, which every kubeconfig reader accepts)."""
        return self.kubeconfig_path.read_text()

    @property
    def client(self) -> KubeClient:
        """A client authenticated with the admin certificate."""
        if self._client is None:
            self._client = KubeClient(
                self.server, self.certs.ca_cert, self.certs.admin_cert, self.certs.admin_key
            )
        return self._client

    def token_client(self) -> KubeClient:
        """A client authenticated with the static admin bearer token."""
        return KubeClient(self.server, self.certs.ca_cert, token=self.token)

    def log_tail(self, process: str, lines: int = 30) -> str:
        """Last lines of one process's log (etcd, kube-apiserver, kube-controller-manager)."""
        path = self.directory / "logs" / f"{process}.log"
        if not path.exists():
            raise KeyError(process)
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])

    # -- lifecycle ------------------------------------------------------------------------

    def start(self, timeout: float = 60.0) -> ControlPlane:
        """Generate certificates, start the processes and wait until /readyz answers ok."""
        begun = time.monotonic()
        self._pki = pki.generate(self.directory / "pki")
        self.token = base64.urlsafe_b64encode(os.urandom(24)).decode().rstrip("=")
        tokens = self.directory / "tokens.csv"
        tokens.write_text(f'{self.token},{ADMIN_TOKEN_USER},{ADMIN_TOKEN_USER},"system:masters"\n')
        tokens.chmod(0o600)
        self.apiserver_port = free_port()
        self._write_kubeconfig()
        try:
            self._start_etcd(timeout)
            self._start_apiserver(timeout)
            if self.with_controller_manager:
                self._start_controller_manager()
                self._wait_controller_manager(timeout)
        except BaseException:
            self.stop()
            raise
        self.started_in = time.monotonic() - begun
        return self

    def stop(self, timeout: float = 10.0) -> None:
        """Stop every process (newest first): terminate, wait up to ``timeout``, then kill."""
        while self._processes:
            proc = self._processes.pop()
            if proc.popen.poll() is None:
                proc.popen.terminate()
                try:
                    proc.popen.wait(timeout)
                except subprocess.TimeoutExpired:
                    proc.popen.kill()
                    proc.popen.wait(timeout)
            proc.log_file.close()

    def __enter__(self) -> ControlPlane:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # -- internals ------------------------------------------------------------------------

    def _spawn(self, name: str, args: list[str]) -> _Process:
        log_path = self.directory / "logs" / f"{name}.log"
        log_path.parent.mkdir(exist_ok=True)
        log_file = log_path.open("wb")
        popen = subprocess.Popen(
            args,
            stdin=subprocess.DEVNULL,
            stdout=log_file,
            stderr=subprocess.STDOUT,
            cwd=self.directory,
            start_new_session=True,
            preexec_fn=_die_with_parent if sys.platform == "linux" else None,
        )
        proc = _Process(name, popen, log_path, log_file)
        self._processes.append(proc)
        return proc

    def _fail(self, proc: _Process, why: str) -> ControlPlaneError:
        return ControlPlaneError(
            f"{self.name}: {proc.name} {why}; last log lines ({proc.log_path}):\n{proc.log_tail()}"
        )

    def _start_etcd(self, timeout: float) -> None:
        self.etcd_port = free_port()
        peer_port = free_port()
        client_url = f"http://127.0.0.1:{self.etcd_port}"
        peer_url = f"http://127.0.0.1:{peer_port}"
        proc = self._spawn(
            "etcd",
            [
                str(self.tools["etcd"].path()),
                "--name=default",
                f"--data-dir={self.directory / 'etcd'}",
                f"--listen-client-urls={client_url}",
                f"--advertise-client-urls={client_url}",
                f"--listen-peer-urls={peer_url}",
                f"--initial-advertise-peer-urls={peer_url}",
                f"--initial-cluster=default={peer_url}",
                "--unsafe-no-fsync=true",
                "--log-level=warn",
                "--quota-backend-bytes=1073741824",
            ],
        )
        deadline = time.monotonic() + timeout
        while True:
            if proc.popen.poll() is not None:
                raise self._fail(proc, f"exited with code {proc.popen.returncode}")
            with (
                contextlib.suppress(OSError, ValueError),
                urllib.request.urlopen(f"{client_url}/health", timeout=2) as response,
            ):
                if json.loads(response.read()).get("health") == "true":
                    return
            if time.monotonic() > deadline:
                raise self._fail(proc, f"not healthy after {timeout}s")
            time.sleep(0.1)

    def _start_apiserver(self, timeout: float) -> None:
        certs = self.certs
        proc = self._spawn(
            "kube-apiserver",
            [
                str(self.tools["kube-apiserver"].path()),
                f"--etcd-servers=http://127.0.0.1:{self.etcd_port}",
                "--bind-address=127.0.0.1",
                "--advertise-address=127.0.0.1",
                f"--secure-port={self.apiserver_port}",
                f"--cert-dir={self.directory / 'apiserver-certs'}",
                f"--tls-cert-file={certs.serving_cert}",
                f"--tls-private-key-file={certs.serving_key}",
                f"--client-ca-file={certs.ca_cert}",
                f"--token-auth-file={self.directory / 'tokens.csv'}",
                "--authorization-mode=RBAC",
                "--service-account-issuer=https://kubernetes.default.svc.cluster.local",
                f"--service-account-key-file={certs.sa_public_key}",
                f"--service-account-signing-key-file={certs.sa_private_key}",
                f"--service-cluster-ip-range={SERVICE_CLUSTER_IP_RANGE}",
                # Kubelet connections (pods/exec, attach, portforward, log): the admin client
                # certificate, kubelet serving certificates checked against the test CA, by
                # the node's InternalIP (tests' kubelet stand-in: harness/kubelet.py).
                f"--kubelet-client-certificate={certs.admin_cert}",
                f"--kubelet-client-key={certs.admin_key}",
                f"--kubelet-certificate-authority={certs.ca_cert}",
                "--kubelet-preferred-address-types=InternalIP",
                "--allow-privileged=true",
                "--profiling=false",
                "--v=1",
            ],
        )
        client = self.client
        deadline = time.monotonic() + timeout
        last = ""
        while True:
            if proc.popen.poll() is not None:
                raise self._fail(proc, f"exited with code {proc.popen.returncode}")
            try:
                if client.get_text("/readyz").strip() == "ok":
                    return
            except (ApiError, OSError) as error:
                last = str(error)
            if time.monotonic() > deadline:
                raise self._fail(proc, f"not ready after {timeout}s ({last})")
            time.sleep(0.1)

    def _start_controller_manager(self) -> None:
        certs = self.certs
        self._spawn(
            "kube-controller-manager",
            [
                str(self.tools["kube-controller-manager"].path()),
                f"--kubeconfig={self.kubeconfig_path}",
                "--secure-port=0",
                "--leader-elect=false",
                f"--service-account-private-key-file={certs.sa_private_key}",
                f"--root-ca-file={certs.ca_cert}",
                f"--service-cluster-ip-range={SERVICE_CLUSTER_IP_RANGE}",
                "--v=1",
            ],
        )

    def _wait_controller_manager(self, timeout: float) -> None:
        """Ready when the service-account controller made default/default."""
        proc = self._processes[-1]
        client = self.client
        deadline = time.monotonic() + timeout
        while True:
            if proc.popen.poll() is not None:
                raise self._fail(proc, f"exited with code {proc.popen.returncode}")
            if client.find("v1", "ServiceAccount", "default", "default") is not None:
                return
            if time.monotonic() > deadline:
                raise self._fail(proc, f"made no default ServiceAccount in {timeout}s")
            time.sleep(0.1)

    def _write_kubeconfig(self) -> None:
        certs = self.certs

        def b64(path: Path) -> str:
            return base64.b64encode(path.read_bytes()).decode()

        config: dict[str, Any] = {
            "apiVersion": "v1",
            "kind": "Config",
            "clusters": [
                {
                    "name": self.name,
                    "cluster": {
                        "server": self.server,
                        "certificate-authority-data": b64(certs.ca_cert),
                    },
                }
            ],
            "users": [
                {
                    "name": "admin",
                    "user": {
                        "client-certificate-data": b64(certs.admin_cert),
                        "client-key-data": b64(certs.admin_key),
                    },
                },
                {"name": "token", "user": {"token": self.token}},
            ],
            "contexts": [
                {"name": self.name, "context": {"cluster": self.name, "user": "admin"}},
                {"name": f"{self.name}-token", "context": {"cluster": self.name, "user": "token"}},
            ],
            "current-context": self.name,
        }
        self.kubeconfig_path.write_text(json.dumps(config, indent=2))
        self.kubeconfig_path.chmod(0o600)


def start_control_plane(
    name: str = "lattice-test",
    *,
    with_controller_manager: bool = True,
    base_dir: Path | None = None,
    timeout: float = 60.0,
) -> ControlPlane:
    """Start a new, independent control plane (skip or fail if the tools are not built)."""
    names = ["etcd", "kube-apiserver"]
    if with_controller_manager:
        names.append("kube-controller-manager")
    tools = require_tools(*names)
    for attempt in range(2):
        directory = Path(tempfile.mkdtemp(prefix=f"{name}-", dir=base_dir))
        plane = ControlPlane(name, directory, tools, with_controller_manager)
        try:
            return plane.start(timeout)
        except ControlPlaneError as error:
            # A free port can be taken between choosing it and binding it: try once more.
            if attempt or "address already in use" not in str(error):
                raise
    raise AssertionError("unreachable")


@contextlib.contextmanager
def control_plane(name: str = "lattice-test", **options: Any) -> Iterator[ControlPlane]:
    """A control plane for the duration of a ``with`` block; its directory is then removed."""
    plane = start_control_plane(name, **options)
    try:
        yield plane
    finally:
        plane.stop()
        if not os.environ.get("LATTICE_KEEP_TEST_DIRS"):
            shutil.rmtree(plane.directory, ignore_errors=True)
