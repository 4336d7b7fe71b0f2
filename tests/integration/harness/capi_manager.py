"""The real Cluster API core manager (``sigs.k8s.io/cluster-api`` core/main.go) on a test
control plane.

``start_capi_manager(plane, directory)`` installs the CRDs the manager serves (copied
from the module by ``scripts/build-tools`` into the tool's ``crds/``), then runs the
manager with the plane's admin kubeconfig: leader election off, health and diagnostics
(metrics) on free loopback ports, the webhook server on a free port with the plane's
serving certificate. The webhooks are served but not registered with the API server (no
webhook configurations, no conversion webhook on the CRDs), so admission defaulting and
validation do not run: tests write complete objects, or call ``register_defaulting_webhooks``
to have core kinds defaulted by the manager itself. It returns once ``/readyz`` answers
ok; ``stop()`` ends the process (terminate, then kill).
"""

from __future__ import annotations

import base64
import shutil
import subprocess
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

from ruamel.yaml import YAML

from .control_plane import ControlPlane, _die_with_parent, free_port
from .crds import install_crds
from .tools import Tool, require_tools


@dataclass
class CapiManager:
    """One running manager process and where its log is."""

    popen: subprocess.Popen[bytes]
    log_path: Path
    log_file: IO[bytes]
    health_port: int
    diagnostics_port: int
    webhook_port: int = 0

    def log_tail(self, lines: int = 40) -> str:
        self.log_file.flush()
        return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])

    def stop(self, timeout: float = 10.0) -> None:
        if self.popen.poll() is None:
            self.popen.terminate()
            try:
                self.popen.wait(timeout)
            except subprocess.TimeoutExpired:
                self.popen.kill()
                self.popen.wait(timeout)
        self.log_file.close()


def manager_crds(tool: Tool) -> list[dict[str, Any]]:
    """The CustomResourceDefinitions shipped next to the manager binary."""
    yaml = YAML(typ="safe", pure=True)
    return [
        yaml.load(path.read_text()) for path in sorted((tool.directory / "crds").glob("*.yaml"))
    ]


def _args(tool: Tool, plane: ControlPlane, certs: Path, ports: tuple[int, int, int]) -> list[str]:
    health, diagnostics, webhook = ports
    return [
        str(tool.path()),
        f"--kubeconfig={plane.kubeconfig_path}",
        "--leader-elect=false",
        f"--health-addr=127.0.0.1:{health}",
        f"--diagnostics-address=127.0.0.1:{diagnostics}",
        "--insecure-diagnostics=true",
        f"--webhook-port={webhook}",
        f"--webhook-cert-dir={certs}",
        "--sync-period=1m",
    ]


def _wait_ready(manager: CapiManager, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    url = f"http://127.0.0.1:{manager.health_port}/readyz"
    while time.monotonic() < deadline:
        if manager.popen.poll() is not None:
            raise RuntimeError(f"cluster-api-manager exited:\n{manager.log_tail()}")
        try:
            with urllib.request.urlopen(url, timeout=2) as response:
                if response.status == 200:
                    return
        except (urllib.error.URLError, OSError):
            pass
        time.sleep(0.5)
    manager.stop()
    raise RuntimeError(f"cluster-api-manager not ready in {timeout:.0f}s:\n{manager.log_tail()}")


DEFAULTING_WEBHOOKS = ("machinedeployment", "machineset", "machine", "machinehealthcheck")
"""Core kinds whose defaulting webhook ``register_defaulting_webhooks`` registers."""


def register_defaulting_webhooks(
    plane: ControlPlane, manager: CapiManager, kinds: tuple[str, ...] = DEFAULTING_WEBHOOKS
) -> None:
    """Register the manager's own defaulting webhooks for ``kinds`` with the API server, so
    objects written without the defaults (a MachineDeployment's rollout strategy) get them
    from Cluster API itself, as in a real management cluster. The webhooks are reached at
    the loopback URL the manager serves them on, with the plane's serving certificate."""
    ca_bundle = base64.b64encode(plane.certs.ca_cert.read_bytes()).decode()
    base = f"https://127.0.0.1:{manager.webhook_port}"
    webhooks = [
        {
            "name": f"default.{kind}.cluster.x-k8s.io",
            "clientConfig": {
                "url": f"{base}/mutate-cluster-x-k8s-io-v1beta2-{kind}",
                "caBundle": ca_bundle,
            },
            "rules": [
                {
                    "apiGroups": ["cluster.x-k8s.io"],
                    "apiVersions": ["v1beta2"],
                    "operations": ["CREATE", "UPDATE"],
                    "resources": [f"{kind}s"],
                }
            ],
            "failurePolicy": "Fail",
            "matchPolicy": "Equivalent",
            "sideEffects": "None",
            "admissionReviewVersions": ["v1"],
        }
        for kind in kinds
    ]
    plane.client.apply(
        {
            "apiVersion": "admissionregistration.k8s.io/v1",
            "kind": "MutatingWebhookConfiguration",
            "metadata": {"name": "cluster-api-core-defaulting"},
            "webhooks": webhooks,
        }
    )


def start_capi_manager(plane: ControlPlane, directory: Path, timeout: float = 120.0) -> CapiManager:
    """Install the Cluster API CRDs on ``plane`` and run the core manager against it."""
    tool = require_tools("cluster-api-manager")["cluster-api-manager"]
    install_crds(plane.client, manager_crds(tool))
    certs = directory / "webhook-certs"
    certs.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(plane.certs.serving_cert, certs / "tls.crt")
    shutil.copyfile(plane.certs.serving_key, certs / "tls.key")
    ports = (free_port(), free_port(), free_port())
    log_path = directory / "cluster-api-manager.log"
    log_file = log_path.open("wb")
    popen = subprocess.Popen(
        _args(tool, plane, certs, ports),
        stdin=subprocess.DEVNULL,
        stdout=log_file,
        stderr=subprocess.STDOUT,
        cwd=directory,
        start_new_session=True,
        preexec_fn=_die_with_parent,
    )
    manager = CapiManager(popen, log_path, log_file, ports[0], ports[1], ports[2])
    _wait_ready(manager, timeout)
    return manager
