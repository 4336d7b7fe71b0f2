"""``lattice install`` and ``lattice uninstall`` end to end, killed at every phase boundary.

Stand-ins, because no infrastructure provider can run here: two harness control planes are
the bootstrap plane (an existing management cluster, ``--bootstrap-kubeconfig``) and the
new cluster. The real Cluster API core manager runs on the bootstrap plane (as a process:
no kubelet runs its Deployment); the Cluster's phases, the MachineSets and Machines, the
pausing and the deletion are its work. The test plays the infrastructure, bootstrap and
control-plane providers (``tests/fakes/capi_providers.FakeClusterAPIProviders``: it writes
the ``dev-kubeconfig`` Secret pointing at the second plane and the providers' ready
fields) and the Helm add-on provider (the Cilium and Istio charts' CRDs appear in the new
cluster once their HelmChartProxies exist). The Lattice operator's Deployment is applied
but never runs (no kubelet), so the stacks are told ``--skip-await``.

The install process is SIGKILLed right after each phase is saved as done
(``install_crash_runner.py``); every rerun goes on from there, and the last run ends in the
state one run would reach. Then uninstall, killed the same way, reverses it.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from harness.crds import install_crds, shared_crds
from harness.kube import KubeClient
from harness.pulumi_engine import PulumiEngine
from install_support import InstallPlanes

from lattice_pulumi.install import INSTALL_PHASES, UNINSTALL_PHASES
from tests.conftest import EXAMPLES
from tests.fakes.capi_install_providers import FakeClusterAPIProviders

pytestmark = pytest.mark.integration

ROOT = Path(__file__).resolve().parents[3]
RUNNER = Path(__file__).with_name("install_crash_runner.py")
NAMESPACE = "capi-dev"
MOVED_KINDS = [
    ("cluster.x-k8s.io/v1beta2", "Cluster"),
    ("cluster.x-k8s.io/v1beta2", "MachineDeployment"),
    ("cluster.x-k8s.io/v1beta2", "MachineSet"),
    ("cluster.x-k8s.io/v1beta2", "Machine"),
    ("cluster.x-k8s.io/v1beta2", "MachineHealthCheck"),
    ("bootstrap.cluster.x-k8s.io/v1beta2", "KubeadmConfig"),
    ("bootstrap.cluster.x-k8s.io/v1beta2", "KubeadmConfigTemplate"),
    ("controlplane.cluster.x-k8s.io/v1beta2", "KubeadmControlPlane"),
    ("infrastructure.cluster.x-k8s.io/v1beta2", "DockerCluster"),
    ("infrastructure.cluster.x-k8s.io/v1beta2", "DockerMachine"),
    ("infrastructure.cluster.x-k8s.io/v1beta2", "DockerMachineTemplate"),
    ("v1", "Secret"),
]
CHART_CRDS = {  # what the add-on charts of the cluster install that Lattice's objects need
    "dev-cilium": ["cilium.io"],
    "dev-istio-base": ["security.istio.io", "networking.istio.io"],
}
CRD = ("apiextensions.k8s.io/v1", "CustomResourceDefinition")


def _cluster_file(tmp_path: Path) -> Path:
    text = (EXAMPLES / "clusters" / "docker-dev.yaml").read_text()
    path = tmp_path / "dev.yaml"
    path.write_text(text.replace("replicas: 2", "replicas: 1"))  # one worker machine
    return path


def _env(engine: PulumiEngine, kill_after: str) -> dict[str, str]:
    env = {**os.environ, **engine.env, "LATTICE_KILL_AFTER": kill_after}
    env.pop("PULUMI_BACKEND_URL")  # the stacks' own local backend under stacks/<cluster>
    env["PYTHONPATH"] = os.pathsep.join([str(ROOT), env.get("PYTHONPATH", "")])
    return env


def _lattice(
    engine: PulumiEngine, args: list[str], kill_after: str = ""
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, str(RUNNER), *args],
        env=_env(engine, kill_after),
        capture_output=True,
        text=True,
        timeout=900,
        cwd=ROOT,
    )


def _objects(client: KubeClient) -> dict[str, dict[str, Any]]:
    found = {}
    for api_version, kind in MOVED_KINDS:
        try:
            items = client.list(api_version, kind, NAMESPACE)
        except Exception:  # the kind's CRD is not installed on this plane
            items = []
        for item in items:
            found[f"{kind}/{item['metadata']['name']}"] = item
    return found


def _owner_problems(client: KubeClient, objects: dict[str, dict[str, Any]]) -> list[str]:
    problems = []
    for key, obj in objects.items():
        for ref in obj["metadata"].get("ownerReferences", []):
            owner = objects.get(f"{ref['kind']}/{ref['name']}")
            if owner is None or owner["metadata"]["uid"] != ref["uid"]:
                problems.append(f"{key} -> {ref['kind']} {ref['name']}")
    return problems


def _killed_at_every_boundary(
    engine: PulumiEngine, args: list[str], phases: Any, progress: Path
) -> None:
    for phase in phases[:-1]:
        killed = _lattice(engine, args, kill_after=phase.name)
        assert killed.returncode == -signal.SIGKILL, killed.stdout + killed.stderr
        saved = json.loads(progress.read_text())
        assert saved["done"][-1] == phase.name and saved["running"] is None, saved


def test_install_and_uninstall_survive_a_kill_at_every_phase_boundary(
    install_planes: InstallPlanes, pulumi_kubernetes_engine: PulumiEngine, tmp_path: Path
) -> None:
    planes, engine = install_planes, pulumi_kubernetes_engine
    bootstrap, workload = planes.bootstrap.client, planes.workload.client
    stacks, cluster_file = tmp_path / "stacks", _cluster_file(tmp_path)
    common = [
        "--stacks-dir",
        str(stacks),
        "--bootstrap-kubeconfig",
        str(planes.bootstrap.kubeconfig_path),
        "--provider-components",
        str(planes.components),
        "--skip-await",
        "--timeout",
        "300",
    ]

    dry = _lattice(engine, ["install", "-f", str(cluster_file), "--dry-run", *common])
    assert dry.returncode == 0, dry.stderr
    assert "7. remove-bootstrap" in dry.stdout and not stacks.exists()  # nothing written

    install = ["install", "-f", str(cluster_file), *common]
    fake = FakeClusterAPIProviders(
        [bootstrap, workload], workload, planes.workload.kubeconfig, "dev", NAMESPACE
    )
    fake.on_release = lambda name: install_crds(workload, shared_crds(CHART_CRDS.get(name, [])))
    with fake:
        _killed_at_every_boundary(
            engine, install, INSTALL_PHASES[:-1], stacks / "dev" / "install-progress.json"
        )
        before = _objects(bootstrap)  # killed after "addons": the cluster, not yet moved
        assert "Cluster/dev" in before and any(k.startswith("MachineSet/") for k in before)
        machines = [o for k, o in before.items() if k.startswith("Machine/")]
        assert machines and all(m["status"].get("phase") == "Running" for m in machines)

        done = _lattice(engine, install, kill_after=INSTALL_PHASES[-2].name)
        assert done.returncode == -signal.SIGKILL, done.stdout + done.stderr
        final = _lattice(engine, install)
        assert final.returncode == 0, final.stdout + final.stderr
        assert (
            "pivot: move the Cluster API objects into the new cluster done earlier, checked"
            in final.stdout
        )
        assert "manages itself" in final.stdout

        # the pivot moved every object, owners remapped, nothing left behind
        after = _objects(workload)
        assert set(after) == set(before)
        assert _objects(bootstrap) == {}
        assert _owner_problems(workload, after) == []
        assert not after["Cluster/dev"]["spec"].get("paused")
        # what install put on the bootstrap plane is gone; what was there stays
        assert bootstrap.find(*CRD, "kubeadmconfigs.bootstrap.cluster.x-k8s.io") is None
        assert bootstrap.find("apps/v1", "Deployment", "lattice-operator", "lattice-system") is None
        assert bootstrap.find(*CRD, "clusters.cluster.x-k8s.io") is not None
        bootstrap.wait_gone("v1", "Namespace", NAMESPACE, timeout=60)
        # the new cluster holds the providers, the operator and the add-on releases
        assert workload.find(*CRD, "kubeadmconfigs.bootstrap.cluster.x-k8s.io") is not None
        assert workload.find("apps/v1", "Deployment", "lattice-operator", "lattice-system")
        kubeconfig = stacks / "dev" / "kubeconfig"
        assert kubeconfig.stat().st_mode & 0o777 == 0o600

        again = _lattice(engine, install)
        assert again.returncode == 0 and "done earlier, checked" in again.stdout, again.stdout

        uninstall = ["uninstall", "-k", str(kubeconfig), *common]
        _killed_at_every_boundary(
            engine, uninstall, UNINSTALL_PHASES, stacks / "dev" / "uninstall-progress.json"
        )
        last = _lattice(engine, uninstall)
        assert last.returncode == 0, last.stdout + last.stderr

    # the real controller deleted the cluster: its finalizer is the controller's to remove
    assert _objects(bootstrap) == {} and _objects(workload) == {}
    assert bootstrap.find(*CRD, "kubeadmconfigs.bootstrap.cluster.x-k8s.io") is None
    assert bootstrap.find(*CRD, "clusters.cluster.x-k8s.io") is not None


def test_bad_inputs_give_one_line_errors(
    pulumi_kubernetes_engine: PulumiEngine, tmp_path: Path
) -> None:
    missing = _lattice(pulumi_kubernetes_engine, ["install", "-f", str(tmp_path / "none.yaml")])
    assert missing.returncode == 1
    assert missing.stderr.strip().splitlines() == [
        f"error install: cluster file {tmp_path / 'none.yaml'} does not exist: expected a "
        "LatticeCluster YAML file"
    ]
    bad = tmp_path / "bad.yaml"
    bad.write_text(
        (EXAMPLES / "clusters" / "docker-dev.yaml")
        .read_text()
        .replace("replicas: 1", "replicas: many")
    )
    invalid = _lattice(pulumi_kubernetes_engine, ["install", "-f", str(bad)])
    assert invalid.returncode != 0
    assert invalid.stderr.strip().splitlines() == [  # the spec errors' form: each, then a count
        f"error {bad}:16:7 spec.nodes.controlPlane.replicas: expected a valid integer, unable "
        "to parse string as an integer, got 'many'",
        "1 error",
    ]
    unreachable = tmp_path / "kubeconfig"
    unreachable.write_text(
        "apiVersion: v1\nkind: Config\ncurrent-context: x\n"
        "clusters: [{name: c, cluster: {server: 'https://127.0.0.1:9'}}]\n"
        "users: [{name: u, user: {token: t}}]\n"
        "contexts: [{name: x, context: {cluster: c, user: u}}]\n"
    )
    for args in (
        [
            "install",
            "-f",
            str(EXAMPLES / "clusters" / "docker-dev.yaml"),
            "--bootstrap-kubeconfig",
            str(unreachable),
            "--stacks-dir",
            str(tmp_path / "s"),
        ],
        ["uninstall", "-k", str(unreachable), "--stacks-dir", str(tmp_path / "s")],
    ):
        failed = _lattice(pulumi_kubernetes_engine, args)
        assert failed.returncode == 1
        lines = failed.stderr.strip().splitlines()
        assert len(lines) == 1 and "cannot reach the Kubernetes API" in lines[0], failed.stderr
    assert not (tmp_path / "s").exists()
