"""A kubelet stand-in for one control plane: a Node and a running Pod whose streaming
subresources (exec, attach, port-forward, logs) the API server really proxies.

No container runtime can run on the test machine, so no real kubelet can either. The
API server proxies pods/exec, pods/attach, pods/portforward and pods/log to the node's
kubelet (its InternalIP and ``status.daemonEndpoints.kubeletEndpoint.Port``, over HTTPS
with the admin client certificate, the serving certificate checked against the test CA:
see the ``--kubelet-*`` flags in ``control_plane``). ``kubelet-standin``
(scripts/tools/kubelet-standin) answers those requests with the upstream kubelet's own
streaming code (k8s.io/kubelet/pkg/cri/streaming); commands run as local processes,
port-forward dials 127.0.0.1 and container logs are files in :attr:`KubeletStandIn.log_dir`.
"""

from __future__ import annotations

import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import IO

from harness.control_plane import ControlPlane, _die_with_parent
from harness.kube import ApiError, KubeClient
from harness.tools import require_tools

__all__ = ["KubeletStandIn", "register_node", "run_pod", "start_kubelet_standin"]


@dataclass
class KubeletStandIn:
    """One running stand-in: its port, log directory and process."""

    port: int
    log_dir: Path
    log_path: Path
    popen: subprocess.Popen[bytes]
    _log_file: IO[bytes]

    def write_log(self, namespace: str, pod: str, container: str, text: str) -> None:
        """Append ``text`` to a container's log (what ``kubectl logs`` shows)."""
        with (self.log_dir / f"{namespace}_{pod}_{container}.log").open("a") as log:
            log.write(text)

    def output(self) -> str:
        """What the stand-in logged so far (requests served, followed logs ended)."""
        self._log_file.flush()
        return self.log_path.read_text(errors="replace")

    def stop(self) -> None:
        if self.popen.poll() is None:
            self.popen.terminate()
            try:
                self.popen.wait(10)
            except subprocess.TimeoutExpired:
                self.popen.kill()
                self.popen.wait()
        self._log_file.close()


def start_kubelet_standin(
    plane: ControlPlane, directory: Path, console_command: str = "cat", timeout: float = 20.0
) -> KubeletStandIn:
    """Start a stand-in serving with ``plane``'s certificates; it trusts the plane's CA for
    client certificates, as a kubelet trusts its API server's."""
    binary = require_tools("kubelet-standin")["kubelet-standin"].path()
    directory.mkdir(parents=True, exist_ok=True)
    log_dir = directory / "container-logs"
    log_dir.mkdir(exist_ok=True)
    certs = plane.certs
    port_file = directory / "kubelet-standin.port"
    log_path = directory / "kubelet-standin.log"
    log_file = log_path.open("wb")
    with port_file.open("wb") as out:
        popen = subprocess.Popen(
            [
                str(binary),
                f"--tls-cert-file={certs.serving_cert}",
                f"--tls-private-key-file={certs.serving_key}",
                f"--client-ca-file={certs.ca_cert}",
                f"--log-dir={log_dir}",
                f"--console-command={console_command}",
            ],
            stdin=subprocess.DEVNULL,
            stdout=out,
            stderr=log_file,
            start_new_session=True,
            preexec_fn=_die_with_parent if sys.platform == "linux" else None,
        )
    deadline = time.monotonic() + timeout
    while not port_file.read_text().startswith("listening on "):
        if popen.poll() is not None or time.monotonic() > deadline:
            popen.kill()
            raise RuntimeError(f"kubelet-standin did not start: {log_path.read_text()}")
        time.sleep(0.05)
    port = int(port_file.read_text().split()[2])
    return KubeletStandIn(port, log_dir, log_path, popen, log_file)


def register_node(kc: KubeClient, name: str, port: int) -> None:
    """A Ready Node at 127.0.0.1 whose kubelet listens on ``port`` (status subresource)."""
    if kc.find("v1", "Node", name) is None:
        kc.create({"apiVersion": "v1", "kind": "Node", "metadata": {"name": name}})
    status = {
        "addresses": [{"type": "InternalIP", "address": "127.0.0.1"}],
        "daemonEndpoints": {"kubeletEndpoint": {"Port": port}},
        "conditions": [{"type": "Ready", "status": "True", "reason": "KubeletStandIn"}],
    }
    kc.request(
        "PATCH",
        f"/api/v1/nodes/{name}/status",
        {"status": status},
        content_type="application/merge-patch+json",
    )


def run_pod(kc: KubeClient, namespace: str, name: str, node: str, containers: list[str]) -> None:
    """A Pod bound to ``node`` (``spec.nodeName``) and marked Running, as a kubelet would."""
    if kc.find("v1", "ServiceAccount", "default", namespace) is None:
        try:  # no controller-manager on the proxy tests' planes makes it
            kc.create(
                {
                    "apiVersion": "v1",
                    "kind": "ServiceAccount",
                    "metadata": {"name": "default", "namespace": namespace},
                }
            )
        except ApiError as error:
            if error.status != 409:
                raise
    if kc.find("v1", "Pod", name, namespace) is None:
        spec = {
            "nodeName": node,
            "automountServiceAccountToken": False,
            "containers": [
                {"name": c, "image": "registry.invalid/stand-in", "stdin": True} for c in containers
            ],
        }
        kc.create(
            {
                "apiVersion": "v1",
                "kind": "Pod",
                "metadata": {"name": name, "namespace": namespace},
                "spec": spec,
            }
        )
    now = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
    status = {
        "phase": "Running",
        "podIP": "127.0.0.1",
        "conditions": [{"type": "Ready", "status": "True"}],
        "containerStatuses": [
            {
                "name": c,
                "ready": True,
                "restartCount": 0,
                "image": "registry.invalid/stand-in",
                "imageID": "",
                "state": {"running": {"startedAt": now}},
            }
            for c in containers
        ],
    }
    kc.request(
        "PATCH",
        f"/api/v1/namespaces/{namespace}/pods/{name}/status",
        {"status": status},
        content_type="application/merge-patch+json",
    )
