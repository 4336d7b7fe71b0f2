"""Pieces of the parent-provisioned child test: CRDs, the cell process, and the test playing
the infrastructure provider and the child's first node (none can run on this machine).

- ``provider_crds``: the kubeadm bootstrap / control plane and CAPD kinds the docker
  example compiles to, labelled with their Cluster API contract as provider manifests
  label them (the real core manager reads the label to know which version to read);
- ``CellProcess``: ``lattice cell serve`` as a child process (state directory, ports);
- ``play_infrastructure``: what CAPD would do once its load balancer is up: the
  DockerCluster's endpoint and ``ready``/``provisioned`` status, and the
  ``<cluster>-kubeconfig`` Secret (here pointing at the plane standing in for the child);
- ``play_first_node``: what the first control-plane node's bootstrap does: the files the
  bootstrap provider writes from the KubeadmControlPlane (the token copied from the Secret
  it references), then the compiler's ``bootstrap.sh`` run by ``/bin/sh`` with the real
  kubectl against the child plane and the real curl against the cell.
"""

from __future__ import annotations

import base64
import json
import os
import subprocess
import time
from pathlib import Path
from typing import Any

from harness.control_plane import ControlPlane, free_port
from harness.crds import shared_crd
from harness.operator import LATTICE, _env

from lattice_pulumi.compile.cluster.bootstrap import CA_PATH, SCRIPT_PATH, TOKEN_PATH

__all__ = ["CellProcess", "play_first_node", "play_infrastructure", "provider_crds"]

PROVIDER_KINDS = (
    ("bootstrap.cluster.x-k8s.io", "KubeadmConfig", "bootstrap-kubeadm"),
    ("bootstrap.cluster.x-k8s.io", "KubeadmConfigTemplate", "bootstrap-kubeadm"),
    ("controlplane.cluster.x-k8s.io", "KubeadmControlPlane", "control-plane-kubeadm"),
    ("infrastructure.cluster.x-k8s.io", "DockerCluster", "infrastructure-docker"),
    ("infrastructure.cluster.x-k8s.io", "DockerMachine", "infrastructure-docker"),
    ("infrastructure.cluster.x-k8s.io", "DockerMachineTemplate", "infrastructure-docker"),
)


def provider_crds() -> list[dict[str, Any]]:
    crds = []
    for group, kind, provider in PROVIDER_KINDS:
        crd = shared_crd(group, kind)
        versions = [v["name"] for v in crd["spec"]["versions"]]
        labels = {"cluster.x-k8s.io/provider": provider, "clusterctl.cluster.x-k8s.io": ""}
        if "v1beta1" in versions:
            labels["cluster.x-k8s.io/v1beta1"] = "v1beta1"
        labels["cluster.x-k8s.io/v1beta2"] = "v1beta2" if "v1beta2" in versions else "v1beta1"
        crd["metadata"]["labels"] = labels
        crds.append(crd)
    return crds


class CellProcess:
    """``lattice cell serve`` for the parent, on free loopback ports."""

    def __init__(self, state_dir: Path, log: Path) -> None:
        self.state_dir = state_dir
        self.log = log
        self.port = free_port()
        self.enrol_port = free_port()
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def server(self) -> str:
        return f"127.0.0.1:{self.port}"

    @property
    def bootstrap_url(self) -> str:
        return f"https://127.0.0.1:{self.enrol_port}"

    def start(self, timeout: float = 60.0) -> CellProcess:
        args = [
            *LATTICE,
            "cell",
            "serve",
            "--name",
            "parent",
            "--state-dir",
            str(self.state_dir),
            "--port",
            str(self.port),
            "--enrol-port",
            str(self.enrol_port),
            "--heartbeat-grace",
            "5",
            "--advertise-endpoint",
            self.server,
            "--advertise-enrol-url",
            f"{self.bootstrap_url}/v1/enrol",
        ]
        with self.log.open("ab") as out:
            self.process = subprocess.Popen(args, stdout=out, stderr=subprocess.STDOUT, env=_env())
        serving = self.state_dir / "serving.json"
        deadline = time.monotonic() + timeout
        while not serving.exists():
            if self.process.poll() is not None or time.monotonic() > deadline:
                self.stop()
                raise RuntimeError(f"cell did not start:\n{self.log.read_text()[-3000:]}")
            time.sleep(0.1)
        return self

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            self.process.wait(20)


def play_infrastructure(parent: ControlPlane, child: ControlPlane, cluster: str) -> None:
    namespace = f"capi-{cluster}"
    kube = parent.client
    host, _, port = child.server.removeprefix("https://").rpartition(":")
    # The storage version (v1beta2) and the contract the core manager reads it by.
    infra = kube.get("infrastructure.cluster.x-k8s.io/v1beta2", "DockerCluster", cluster, namespace)
    path = kube.path("infrastructure.cluster.x-k8s.io/v1beta2", "DockerCluster", cluster, namespace)
    kube.request(
        "PATCH",
        path,
        {"spec": {"controlPlaneEndpoint": {"host": host, "port": int(port)}}},
        content_type="application/merge-patch+json",
    )
    kube.request(
        "PATCH",
        f"{path}/status",
        {"status": {"initialization": {"provisioned": True}}},
        content_type="application/merge-patch+json",
    )
    assert infra["metadata"]["name"] == cluster
    kube.apply(
        {
            "apiVersion": "v1",
            "kind": "Secret",
            "metadata": {
                "name": f"{cluster}-kubeconfig",
                "namespace": namespace,
                "labels": {"cluster.x-k8s.io/cluster-name": cluster},
            },
            "type": "cluster.x-k8s.io/secret",
            "data": {"value": base64.b64encode(child.kubeconfig.encode()).decode()},
        },
        field_manager="fake-infrastructure-provider",
    )


def play_first_node(
    parent: ControlPlane, child: ControlPlane, cluster: str, kubectl: Path, root: Path
) -> subprocess.CompletedProcess[str]:
    """Write the bootstrap files under ``root`` and run ``bootstrap.sh`` as the node would."""
    namespace = f"capi-{cluster}"
    plane = parent.client.get(
        "controlplane.cluster.x-k8s.io/v1beta2",
        "KubeadmControlPlane",
        f"{cluster}-control-plane",
        namespace,
    )
    spec = plane["spec"]["kubeadmConfigSpec"]
    assert SCRIPT_PATH in spec["postKubeadmCommands"]
    files = {f["path"]: f for f in spec["files"]}
    reference = files[TOKEN_PATH]["contentFrom"]["secret"]
    secret = parent.client.get("v1", "Secret", reference["name"], namespace)
    token = base64.b64decode(secret["data"][reference["key"]]).decode()
    etc = root / "etc"
    etc.mkdir(parents=True, exist_ok=True)
    moved = {path: etc / Path(path).name for path in (CA_PATH, TOKEN_PATH, SCRIPT_PATH)}
    script = files[SCRIPT_PATH]["content"]
    for path, local in moved.items():
        script = script.replace(path, str(local))
    script = script.replace("/etc/kubernetes/admin.conf", str(child.kubeconfig_path))
    script = script.replace("kubectl=kubectl", f"kubectl={kubectl}")
    moved[CA_PATH].write_text(files[CA_PATH]["content"])
    moved[TOKEN_PATH].write_text(token)
    moved[TOKEN_PATH].chmod(0o600)
    moved[SCRIPT_PATH].write_text(script)
    env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "HOME": str(root), "TMPDIR": str(root)}
    return subprocess.run(
        ["/bin/sh", str(moved[SCRIPT_PATH])],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def bootstrap_secret(child: ControlPlane) -> dict[str, str]:
    """The decoded ``lattice-system/lattice-bootstrap`` Secret the script left in the child."""
    secret = child.client.get("v1", "Secret", "lattice-bootstrap", "lattice-system")
    return {k: base64.b64decode(v).decode() for k, v in (secret.get("data") or {}).items()}


def bundle_config(child: ControlPlane) -> dict[str, str]:
    """The agent's ConfigMap from the applied bundle (endpoint, enrol URL, CA)."""
    for config in child.client.list("v1", "ConfigMap", namespace="lattice-system"):
        if "enrol-url" in (config.get("data") or {}):
            return dict(config["data"])
    raise LookupError("no agent ConfigMap in lattice-system")


def dump(obj: Any) -> str:
    return json.dumps(obj, indent=1, sort_keys=True)[:4000]
