"""A parent's operator provisions a child from a LatticeCluster, enrols it and pivots it; the
child keeps running when the parent is gone.

Real parts: the parent is ``capi_plane`` (the real Cluster API core manager: the Cluster's
phase is its), the parent's cell is ``lattice cell serve`` (real HTTPS enrolment and
bootstrap endpoint, real gRPC + mTLS), the operator is ``lattice operator run
--cell-state-dir`` (kopf), the agent is ``lattice agent run``, the child is another harness
control plane, the node's bootstrap script runs under ``/bin/sh`` with the real kubectl
and curl. What cannot run here (no infrastructure provider, no kubelet, no CAAPH), the
test plays, and says so where it does: CAPD marking the DockerCluster ready and writing
the kubeconfig Secret, the first node running the bootstrap step with the token the
bootstrap provider copies from the Secret, the agent pod started by the bundle, and CAAPH
reporting a HelmChartProxy Ready.
"""

from __future__ import annotations

import base64
import os
import signal
import subprocess
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from child_support import (
    CellProcess,
    bootstrap_secret,
    bundle_config,
    dump,
    play_first_node,
    play_infrastructure,
    provider_crds,
)
from harness.capi_manager import CapiManager, manager_crds, start_capi_manager
from harness.control_plane import ControlPlane
from harness.crds import install_crds, shared_crd
from harness.kube import ApiError
from harness.operator import LATTICE, OperatorProcess, _env, lattice_crds
from harness.tools import require_tools
from ruamel.yaml import YAML

from lattice_pulumi.compile.cluster import plan_addons
from lattice_pulumi.pivot import SOURCE_UID_ANNOTATION
from lattice_pulumi.spec import loader

pytestmark = pytest.mark.integration

ROOT = Path(__file__).resolve().parents[3]
LATTICE_API = "lattice.dev/v1alpha1"
CAPI = "cluster.x-k8s.io/v1beta2"
NAME = "dev"
NAMESPACE = f"capi-{NAME}"
OWN = "parent"  # the operator's --cluster


def _documents() -> list[dict[str, Any]]:
    text = (ROOT / "examples" / "clusters" / "docker-dev.yaml").read_text()
    return [d for d in YAML(typ="safe").load_all(text) if d]


def _lattice_cluster(plane: ControlPlane) -> dict[str, Any]:
    return dict(plane.client.get(LATTICE_API, "LatticeCluster", NAME))


def _phase(plane: ControlPlane) -> str:
    return str((_lattice_cluster(plane).get("status") or {}).get("phase") or "")


def _wait_phase(
    plane: ControlPlane, wanted: str, log: Callable[[], str], timeout: float = 90
) -> None:
    plane.client.wait_for(
        lambda: _phase(plane) == wanted,
        timeout=timeout,
        what=f"LatticeCluster phase {wanted}; status:\n"
        f"{dump(_lattice_cluster(plane).get('status'))}\n{log()}",
    )


def _install_parent(parent: ControlPlane) -> None:
    install_crds(parent.client, [*provider_crds(), *lattice_crds()], timeout=120)
    for doc in _documents():
        if doc["kind"] == "CloudProvider":
            parent.client.apply(
                {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "lattice-system"}}
            )
        parent.client.apply(doc)
        if doc["kind"] == "LatticeCluster":  # the parent's own cluster: not a child
            own = {**doc, "metadata": {"name": OWN}}
            parent.client.apply(own)


def _install_child(child: ControlPlane) -> None:
    tool = require_tools("cluster-api-manager")["cluster-api-manager"]
    hcp = shared_crd("addons.cluster.x-k8s.io", "HelmChartProxy")
    install_crds(
        child.client, [*manager_crds(tool), *provider_crds(), *lattice_crds(), hcp], timeout=120
    )


def _agent(child: ControlPlane, cell: CellProcess, tmp: Path, log: Path) -> subprocess.Popen[bytes]:
    """The agent as the bundle's Deployment would run it (no kubelet here: a process)."""
    boot = bootstrap_secret(child)
    config = bundle_config(child)
    (tmp / "agent-token").write_text(boot["token"])
    (tmp / "parent-ca.crt").write_text(boot["ca.crt"])
    args = [
        *LATTICE,
        "agent",
        "run",
        "--cluster",
        NAME,
        "--endpoint",
        config["endpoint"],
        "--credentials-dir",
        str(tmp / "agent-credentials"),
        "--ca",
        str(tmp / "parent-ca.crt"),
        "--enrol-url",
        config["enrol-url"],
        "--token-file",
        str(tmp / "agent-token"),
        "--kubeconfig",
        str(child.kubeconfig_path),
        "--heartbeat-interval",
        "1",
        "--backoff-max",
        "2",
    ]
    with log.open("ab") as out:
        return subprocess.Popen(args, stdout=out, stderr=subprocess.STDOUT, env=_env())


def _capi_objects(plane: ControlPlane, namespace: str) -> dict[str, list[str]]:
    found: dict[str, list[str]] = {}
    for api, kind in (
        (CAPI, "Cluster"),
        (CAPI, "MachineDeployment"),
        ("controlplane.cluster.x-k8s.io/v1beta2", "KubeadmControlPlane"),
        ("infrastructure.cluster.x-k8s.io/v1beta1", "DockerCluster"),
    ):
        try:
            items = plane.client.list(api, kind, namespace=namespace)
        except ApiError as error:
            if error.status != 404:
                raise
            items = []
        if items:
            found[kind] = sorted(o["metadata"]["name"] for o in items)
    return found


def test_parent_provisions_enrols_and_pivots_a_child_that_outlives_it(
    capi_plane: tuple[ControlPlane, CapiManager],
    control_plane_factory: Callable[..., ControlPlane],
    tmp_path: Path,
) -> None:
    parent, manager = capi_plane
    kubectl = require_tools("kubectl")["kubectl"].path()
    child = control_plane_factory("child-dev")
    _install_parent(parent)
    _install_child(child)
    cell = CellProcess(tmp_path / "cell", tmp_path / "cell.log").start()
    operator_log = tmp_path / "operator.log"
    operator_args = (
        "--cell-state-dir",
        str(cell.state_dir),
        "--cell-server",
        cell.server,
        "--cell-bootstrap-url",
        cell.bootstrap_url,
        "--children-wait",
        "1",
        "--children-refresh",
        "1",
    )

    def operator() -> OperatorProcess:
        return OperatorProcess(parent, operator_log, cluster="parent", extra_args=operator_args)

    def logs() -> str:
        return (
            f"operator:\n{operator_log.read_text()[-4000:]}\n"
            f"cell:\n{cell.log.read_text()[-1500:]}\nmanager:\n{manager.log_tail(15)}"
        )

    agent: subprocess.Popen[bytes] | None = None
    first = operator().start()
    try:
        # 1. applied in the parent, waiting for the control plane: kill the operator here
        _wait_phase(parent, "Provisioning", logs)
        assert _capi_objects(parent, NAMESPACE)["KubeadmControlPlane"] == ["dev-control-plane"]
        token_secret = parent.client.get("v1", "Secret", f"{NAME}-bootstrap-token", NAMESPACE)
        token = base64.b64decode(token_secret["data"]["token"]).decode()
        first.kill()

        # 2. the test plays CAPD: DockerCluster ready, kubeconfig Secret for the child plane
        play_infrastructure(parent, child, NAME)
        parent.client.wait_for(
            lambda: (
                parent.client.get(CAPI, "Cluster", NAME, NAMESPACE).get("status", {}).get("phase")
                == "Provisioned"
            ),
            timeout=90,
            what="the controller's phase Provisioned:\n"
            + dump(parent.client.get(CAPI, "Cluster", NAME, NAMESPACE).get("status"))
            + dump(
                parent.client.get(
                    "infrastructure.cluster.x-k8s.io/v1beta1", "DockerCluster", NAME, NAMESPACE
                )
            )
            + manager.log_tail(),
        )
        second = operator().start()  # the restart completes what the killed one began
        _wait_phase(parent, "Enrolling", logs)
        kept = parent.client.get("v1", "Secret", f"{NAME}-bootstrap-token", NAMESPACE)
        assert base64.b64decode(kept["data"]["token"]).decode() == token  # not minted twice

        # 3. the test plays the first node (bootstrap step) and the agent pod it deploys
        node = play_first_node(parent, child, NAME, kubectl, tmp_path / "node")
        assert node.returncode == 0, node.stdout + node.stderr
        assert token not in node.stdout + node.stderr
        agent = _agent(child, cell, tmp_path, tmp_path / "agent.log")
        _wait_phase(parent, "Ready", logs, timeout=180)

        # 4. the objects moved: none left in the parent, all in the child, resumed there
        parent.client.wait_gone("v1", "Namespace", NAMESPACE, timeout=60)
        assert _capi_objects(parent, NAMESPACE) == {}
        moved = _capi_objects(child, NAMESPACE)
        assert moved["Cluster"] == [NAME] and moved["KubeadmControlPlane"] == ["dev-control-plane"]
        cluster = child.client.get(CAPI, "Cluster", NAME, NAMESPACE)
        assert SOURCE_UID_ANNOTATION in cluster["metadata"]["annotations"]
        assert not cluster["spec"].get("paused")
        assert child.client.find(LATTICE_API, "LatticeCluster", NAME) is not None  # handed over
        assert "token" not in bootstrap_secret(child)  # the agent dropped the burnt token
        secrets = parent.client.list("v1", "Secret", namespace="lattice-system")
        assert not [s for s in secrets if s["metadata"]["name"].startswith("lattice-child-")]
        own = parent.client.get(LATTICE_API, "LatticeCluster", OWN)
        # its own cluster is not provisioned as a child: no objects, no token, no add-on
        # health; its status is self-management's (cluster_self), not the children's
        assert "addons" not in own.get("status", {})
        assert parent.client.find("v1", "Namespace", f"capi-{OWN}") is None

        # 5. add-on health: the test plays CAAPH reporting the cilium release Ready
        child.client.apply(
            {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": NAMESPACE}}
        )
        proxy = {
            "apiVersion": "addons.cluster.x-k8s.io/v1alpha1",
            "kind": "HelmChartProxy",
            "metadata": {
                "name": "cilium",
                "namespace": NAMESPACE,
                "labels": {"lattice.dev/addon": "cilium"},
            },
            "spec": {
                "clusterSelector": {"matchLabels": {"cluster.x-k8s.io/cluster-name": NAME}},
                "chartName": "cilium",
                "repoURL": "https://helm.cilium.io",
                "version": "1.18.1",
            },
        }
        child.client.apply(proxy)
        child.client.request(
            "PATCH",
            child.client.path(proxy["apiVersion"], "HelmChartProxy", "cilium", NAMESPACE)
            + "/status",
            {
                "status": {
                    "conditions": [
                        {
                            "type": "Ready",
                            "status": "True",
                            "lastTransitionTime": "2026-01-01T00:00:00Z",
                        }
                    ]
                }
            },
            content_type="application/merge-patch+json",
        )

        def health() -> dict[str, str]:
            addons = (_lattice_cluster(parent).get("status") or {}).get("addons") or []
            return {a["name"]: a["health"] for a in addons}

        parent.client.wait_for(
            lambda: health().get("cilium") == "Healthy",
            timeout=60,
            what=f"cilium Healthy:\n{logs()}",
        )
        plan = [
            a.name for a in plan_addons(loader.load(ROOT / "examples/clusters/docker-dev.yaml")[0])
        ]
        assert health() == {name: "Healthy" if name == "cilium" else "Unknown" for name in plan}
        assert token not in operator_log.read_text()
        assert token not in cell.log.read_text()

        # 6. the parent goes away: operator, cell, CAPI manager and API server
        second.stop()
        cell.stop()
        manager.stop()
        parent.stop()
        time.sleep(6)
        agent_log = (tmp_path / "agent.log").read_text()
        assert agent.poll() is None, agent_log[-3000:]
        assert "Traceback" not in agent_log
        assert _capi_objects(child, NAMESPACE) == moved

        # 7. the child's own Cluster API manager reconciles the moved Cluster: a phase
        # knocked back to Pending is set to Provisioned again by it, with no parent around
        child_manager = start_capi_manager(child, tmp_path / "child-manager")
        try:
            child.client.request(
                "PATCH",
                child.client.path(CAPI, "Cluster", NAME, NAMESPACE) + "/status",
                {"status": {"phase": "Pending"}},
                content_type="application/merge-patch+json",
            )
            child.client.wait_for(
                lambda: (
                    child.client.get(CAPI, "Cluster", NAME, NAMESPACE)["status"]["phase"]
                    == "Provisioned"
                ),
                timeout=90,
                what=f"the child's controller to reconcile:\n{child_manager.log_tail()}",
            )
        finally:
            child_manager.stop()
        assert (
            child.client.get(CAPI, "Cluster", NAME, NAMESPACE)["metadata"]["uid"]
            == cluster["metadata"]["uid"]
        )
    finally:
        if agent is not None and agent.poll() is None:
            agent.send_signal(signal.SIGTERM)
            agent.wait(20)
        cell.stop()
        os.environ.pop("KUBECONFIG", None)
