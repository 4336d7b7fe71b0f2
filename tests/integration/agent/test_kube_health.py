"""The agent against a real kube-apiserver: node health, /version, credentials in a Secret.

Nodes are cluster-wide, so this module has its own control plane (without the controller
manager: its node lifecycle controller would mark kubelet-less nodes Unknown).
"""

from __future__ import annotations

import asyncio
import base64
import json
import signal
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from conftest import WAIT, RunningAgents, eventually, issue_credentials
from fleet_support import APP_SCRIPT, CellProcess, app, env_without_lattice, fleet_clusters
from harness.control_plane import ControlPlane, free_port
from harness.kube import KubeClient
from lightkube import AsyncClient
from lightkube.resources.core_v1 import Secret
from lightkube.types import PatchType
from typer.testing import CliRunner

from lattice_pulumi import kube, pki
from lattice_pulumi.agent import (
    AgentCredentials,
    BootstrapSecret,
    HealthWatcher,
    SecretCredentialStore,
    StatusHolder,
)
from lattice_pulumi.agent.health import API_CONDITION
from lattice_pulumi.cell import CellServer, CellState
from lattice_pulumi.protocol import pb

pytestmark = pytest.mark.integration

NAMESPACE = "lattice-system"
CP_LABEL = "node-role.kubernetes.io/control-plane"


@pytest.fixture(scope="module")
def plane(control_plane_factory: Callable[..., ControlPlane]) -> ControlPlane:
    plane = control_plane_factory("agent-kube", with_controller_manager=False)
    plane.client.apply({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": NAMESPACE}})
    return plane


@pytest.fixture
async def client(plane: ControlPlane) -> AsyncIterator[AsyncClient]:
    client = kube.connect(plane.kubeconfig_path, field_manager="lattice-tests")
    try:
        yield client
    finally:
        await client.aclose()


def ready_condition(ready: bool) -> dict[str, str]:
    now = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
    return {
        "type": "Ready",
        "status": "True" if ready else "False",
        "reason": "KubeletReady" if ready else "KubeletNotReady",
        "message": "",
        "lastHeartbeatTime": now,
        "lastTransitionTime": now,
    }


def make_node(kc: KubeClient, name: str, ready: bool, labels: dict[str, str]) -> None:
    kc.create(
        {
            "apiVersion": "v1",
            "kind": "Node",
            "metadata": {"name": name, "labels": labels},
            "status": {"conditions": [ready_condition(ready)]},
        }
    )


def set_ready(kc: KubeClient, name: str, ready: bool) -> None:
    kc.request(
        "PATCH",
        f"/api/v1/nodes/{name}/status",
        {"status": {"conditions": [ready_condition(ready)]}},
        content_type="application/strategic-merge-patch+json",
    )


@pytest.fixture
def nodes(plane: ControlPlane) -> Iterator[KubeClient]:
    """cp1 ready, cp2 not ready, two ready workers in pools general and gpu."""
    kc = plane.client
    made = {
        "cp1": (True, {CP_LABEL: ""}),
        "cp2": (False, {CP_LABEL: ""}),
        "w1": (True, {"lattice.dev/pool": "general"}),
        "w2": (True, {"lattice.dev/pool": "gpu"}),
    }
    for name, (ready, labels) in made.items():
        make_node(kc, name, ready, labels)
    yield kc
    for name in made:
        kc.delete("v1", "Node", name)


async def test_watcher_reflects_nodes_and_version(client: AsyncClient, nodes: KubeClient) -> None:
    status = StatusHolder()
    watcher = HealthWatcher(client, status, interval=0.1)
    assert await watcher.refresh()

    assert status.state == pb.CLUSTER_STATE_DEGRADED
    assert (status.health.control_plane.ready, status.health.control_plane.total) == (1, 2)
    assert (status.health.workers.ready, status.health.workers.total) == (2, 2)
    assert {p.name: p.nodes.total for p in status.health.pools} == {"general": 1, "gpu": 1}
    assert status.kubernetes_version.startswith("v1.")
    conditions = {c.type: c for c in status.health.conditions}
    assert conditions["ControlPlaneReady"].message.endswith("not ready: cp2")
    assert conditions[API_CONDITION].status == "True"

    set_ready(nodes, "cp2", True)
    task = asyncio.create_task(watcher.run())
    try:
        await eventually(lambda: status.state == pb.CLUSTER_STATE_READY)
        assert status.health.control_plane.ready == 2
    finally:
        await watcher.stop()
        await task


async def test_an_unreachable_api_is_a_condition_not_a_crash(
    client: AsyncClient, nodes: KubeClient, plane: ControlPlane, tmp_path: Path
) -> None:
    status = StatusHolder()
    assert await HealthWatcher(client, status, interval=0.1).refresh()

    config = json.loads(plane.kubeconfig)
    config["clusters"][0]["cluster"]["server"] = f"https://127.0.0.1:{free_port()}"
    (tmp_path / "gone.kubeconfig").write_text(json.dumps(config))
    gone = kube.connect(tmp_path / "gone.kubeconfig", timeout=2.0)
    try:
        watcher = HealthWatcher(gone, status, interval=0.1)
        assert not await watcher.refresh()
        assert not await watcher.refresh()
    finally:
        await gone.aclose()
    assert watcher.failures == 2
    conditions = {c.type: c for c in status.health.conditions}
    assert conditions[API_CONDITION].status == "False"
    assert "cannot reach the Kubernetes API" in conditions[API_CONDITION].message
    # The last known figures stay.
    assert status.health.workers.total == 2 and status.state == pb.CLUSTER_STATE_DEGRADED


async def test_agent_reports_the_watched_nodes_to_the_cell(
    client: AsyncClient,
    nodes: KubeClient,
    cell: CellServer,
    agents: RunningAgents,
    ca: pki.CertificateAuthority,
) -> None:
    status = StatusHolder()
    watcher = HealthWatcher(client, status, interval=0.05)
    assert await watcher.refresh()
    agents.start(agents.make("alpha", cell.endpoint, issue_credentials(ca, "alpha"), status))

    def reported() -> bool:
        record = cell.registry.get("alpha")
        return record is not None and record.connected and record.heartbeats >= 1

    await cell.registry.wait_until(lambda _: reported(), WAIT)
    record = cell.registry.get("alpha")
    assert record is not None
    assert record.state == pb.CLUSTER_STATE_DEGRADED
    assert (record.health.control_plane.ready, record.health.control_plane.total) == (1, 2)
    assert (record.health.workers.ready, record.health.workers.total) == (2, 2)
    assert record.kubernetes_version == status.kubernetes_version != ""


async def test_credentials_round_trip_through_the_secret(
    client: AsyncClient, plane: ControlPlane, ca: pki.CertificateAuthority
) -> None:
    store = SecretCredentialStore(client, NAMESPACE, "round-trip")
    assert await store.load() is None
    first = issue_credentials(ca, "alpha")
    await store.save(first)
    loaded = await SecretCredentialStore(client, NAMESPACE, "round-trip").load()
    assert loaded is not None
    assert loaded.serial == first.serial
    assert pki.private_key_pem(loaded.key) == pki.private_key_pem(first.key)
    assert loaded.ca_bundle_pem == first.ca_bundle_pem

    second = issue_credentials(ca, "alpha")  # a renewal replaces the Secret
    await store.save(second)
    again = await store.load()
    assert again is not None and again.serial == second.serial
    secret = plane.client.get("v1", "Secret", "round-trip", NAMESPACE)
    assert secret["type"] == "kubernetes.io/tls"
    assert sorted(secret["data"]) == ["ca.crt", "tls.crt", "tls.key"]
    plane.client.delete("v1", "Secret", "round-trip", NAMESPACE)


async def test_api_errors_are_lattice_errors(client: AsyncClient) -> None:
    store = SecretCredentialStore(client, "no-such-namespace", "x")
    assert await store.load() is None  # 404 of the Secret (or its namespace): nothing saved
    with pytest.raises(kube.KubeError) as caught:
        await store.save(issue_credentials(pki.CertificateAuthority.create("t"), "alpha"))
    assert caught.value.status == 404 and isinstance(caught.value, kube.NotFoundError)
    assert "save Secret no-such-namespace/x: HTTP 404 NotFound" in str(caught.value)
    assert "PRIVATE KEY" not in str(caught.value)


runner = CliRunner()


def _agent(
    tmp_path: Path, cell: CellProcess, plane: ControlPlane, creds: str, log: str, **env: str
) -> subprocess.Popen[bytes]:
    with (tmp_path / log).open("wb") as out:
        return subprocess.Popen(
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
                str(tmp_path / creds),
                "--heartbeat-interval",
                "0.2",
                "--kubeconfig",
                str(plane.kubeconfig_path),
                "--namespace",
                NAMESPACE,
            ],
            stdout=out,
            stderr=subprocess.STDOUT,
            env=env_without_lattice(**env),
        )


def _wait_connected(
    agent: subprocess.Popen[bytes], cell: CellProcess, op: Path, log: Path
) -> dict[str, Any]:
    """The agent's row once it is connected and has reported health (on a loaded machine
    the first refresh can time out, and the next heartbeat brings the figures)."""
    deadline = time.monotonic() + 15
    while True:
        seen: dict[str, Any] | None = fleet_clusters(cell, op).get("alpha")
        if (
            seen is not None
            and seen["agent"]["state"] == "connected"
            and seen["phase"] != "Unknown"
        ):
            return seen
        assert agent.poll() is None, log.read_text()
        assert time.monotonic() < deadline, "agent did not connect and report within 15 s"
        time.sleep(0.1)


def _stop(agent: subprocess.Popen[bytes]) -> int:
    agent.send_signal(signal.SIGTERM)
    try:
        return agent.wait(10)
    finally:
        if agent.poll() is None:
            agent.kill()
            agent.wait(10)


def test_a_replaced_pod_reloads_its_credentials_from_the_secret(
    tmp_path: Path, plane: ControlPlane, nodes: KubeClient
) -> None:
    state, log = tmp_path / "state", tmp_path / "cell.log"
    cell = CellProcess(state, log)
    agents: list[subprocess.Popen[bytes]] = []
    try:
        issued = runner.invoke(app, ["cell", "token", "alpha", "--state-dir", str(state)])
        assert issued.exit_code == 0, issued.output
        token = issued.stdout.strip()
        op = tmp_path / "op"
        made = runner.invoke(
            app, ["cell", "operator-cert", "--state-dir", str(state), "--out-dir", str(op)]
        )
        assert made.exit_code == 0, made.output

        first = _agent(
            tmp_path,
            cell,
            plane,
            "pod1",
            "agent1.log",
            LATTICE_BOOTSTRAP_TOKEN=token,
            LATTICE_ENROL_URL=cell.enrol,
            LATTICE_PARENT_CA=str(state / "ca.crt"),
        )
        agents.append(first)
        seen = _wait_connected(first, cell, op, tmp_path / "agent1.log")
        # What `lattice get clusters` shows: the nodes of the real API server, not 0/0.
        assert (seen["phase"], seen["controlPlane"], seen["workers"]) == (
            "Degraded",
            {"ready": 1, "total": 2},
            {"ready": 2, "total": 2},
        )
        assert seen["kubernetesVersion"].startswith("v1.")
        assert _stop(first) == 0
        secret = plane.client.get("v1", "Secret", "lattice-agent-credentials", NAMESPACE)
        assert secret["type"] == "kubernetes.io/tls"
        saved_key = (tmp_path / "pod1" / "tls.key").read_bytes()

        # A new pod: empty credentials dir, no token (it was burnt), same Secret.
        second = _agent(tmp_path, cell, plane, "pod2", "agent2.log")
        agents.append(second)
        seen = _wait_connected(second, cell, op, tmp_path / "agent2.log")
        assert (tmp_path / "pod2" / "tls.key").read_bytes() == saved_key
        assert _stop(second) == 0
    finally:
        for agent in agents:
            if agent.poll() is None:
                agent.kill()
                agent.wait(10)
        cell.stop()
        plane.client.delete("v1", "Secret", "lattice-agent-credentials", NAMESPACE)
    first_log = (tmp_path / "agent1.log").read_text()
    second_log = (tmp_path / "agent2.log").read_text()
    assert "enrolled cluster alpha" in first_log
    assert "loaded the credentials of alpha from" in second_log
    assert "enrolled" not in second_log
    for text in (first_log, second_log, log.read_text()):
        assert "PRIVATE KEY" not in text and token.split(".")[2] not in text


def _b64(value: bytes | str) -> str:
    raw = value.encode() if isinstance(value, str) else value
    return base64.b64encode(raw).decode("ascii")


def _bootstrap_secret(
    token: str, ca: pki.CertificateAuthority, name: str = "lattice-bootstrap"
) -> dict[str, Any]:
    """What the post-boot script's ``kubectl create secret generic`` makes."""
    return {
        "apiVersion": "v1",
        "kind": "Secret",
        "metadata": {"name": name, "namespace": NAMESPACE},
        "type": "Opaque",
        "data": {"token": _b64(token), "ca.crt": _b64(ca.certificate_pem())},
    }


def _sa_kubeconfig(plane: ControlPlane, path: Path) -> Path:
    """A kubeconfig of the bundle's ServiceAccount (a TokenRequest token), like in a pod."""
    issued = plane.client.request(
        "POST",
        f"/api/v1/namespaces/{NAMESPACE}/serviceaccounts/lattice-agent/token",
        {
            "apiVersion": "authentication.k8s.io/v1",
            "kind": "TokenRequest",
            "spec": {"expirationSeconds": 600},
        },
    )
    config = json.loads(plane.kubeconfig)
    config["users"][0]["user"] = {"token": issued["status"]["token"]}
    path.write_text(json.dumps(config))
    return path


async def test_the_bundle_rbac_is_enough_and_no_more(
    plane: ControlPlane, nodes: KubeClient, tmp_path: Path, ca: pki.CertificateAuthority
) -> None:
    from lattice_pulumi.compile.agent import AgentParent, compile_agent_bundle

    parent = AgentParent(
        "127.0.0.1:50051", "https://127.0.0.1:8443/v1/enrol", ca.certificate_pem().decode()
    )
    rbac = [
        o
        for o in compile_agent_bundle("alpha", parent)
        if o["kind"]
        in ("ServiceAccount", "ClusterRole", "ClusterRoleBinding", "Role", "RoleBinding")
    ]
    plane.client.apply_all(rbac)
    client = kube.connect(_sa_kubeconfig(plane, tmp_path / "sa.kubeconfig"))
    try:
        status = StatusHolder()
        assert await HealthWatcher(client, status, interval=1).refresh()  # nodes + /version
        assert status.health.workers.total == 2

        store = SecretCredentialStore(client, NAMESPACE)
        assert await store.load() is None
        first = issue_credentials(ca, "alpha")
        await store.save(first)  # apply-create, allowed by resourceNames
        await store.save(issue_credentials(ca, "alpha"))  # apply-update
        assert (await store.load()) is not None

        other = SecretCredentialStore(client, NAMESPACE, "someone-elses")
        with pytest.raises(kube.KubeError) as caught:
            await other.save(first)
        assert caught.value.status == 403
        with pytest.raises(kube.KubeError) as caught:
            await other.load()
        assert caught.value.status == 403

        # lattice-bootstrap: get and patch (the token goes, ca.crt stays), nothing more.
        plane.client.create(_bootstrap_secret("lt1.0123456789abcdef.burnt", ca))
        plane.client.create(_bootstrap_secret("lt1.0123456789abcdef.other", ca, "someone-elses"))
        bootstrap = BootstrapSecret(client, NAMESPACE)
        assert await bootstrap.forget_token()
        assert not await bootstrap.forget_token()  # nothing left to remove
        left = plane.client.get("v1", "Secret", "lattice-bootstrap", NAMESPACE)
        assert left["data"] == {"ca.crt": _b64(ca.certificate_pem())}
        # the same patch on another Secret
        with pytest.raises(kube.KubeError) as caught, kube.api_errors("patch"):
            await client.patch(
                Secret,
                "someone-elses",
                [{"op": "remove", "path": "/data/token"}],
                namespace=NAMESPACE,
                patch_type=PatchType.JSON,
            )
        assert caught.value.status == 403
        with pytest.raises(kube.KubeError) as caught:
            await BootstrapSecret(client, NAMESPACE, "someone-elses").forget_token()
        assert caught.value.status == 403
        with pytest.raises(kube.KubeError) as caught, kube.api_errors("delete"):  # no delete
            await client.delete(Secret, "lattice-bootstrap", namespace=NAMESPACE)
        assert caught.value.status == 403
        assert "token" in plane.client.get("v1", "Secret", "someone-elses", NAMESPACE)["data"]
    finally:
        await client.aclose()
        for secret in ("lattice-agent-credentials", "lattice-bootstrap", "someone-elses"):
            plane.client.delete("v1", "Secret", secret, NAMESPACE)
        for obj in reversed(rbac):
            meta = obj["metadata"]
            plane.client.delete(obj["apiVersion"], obj["kind"], meta["name"], meta.get("namespace"))


def _bundle_rbac(ca_pem: str) -> list[dict[str, Any]]:
    from lattice_pulumi.compile.agent import AgentParent, compile_agent_bundle

    parent = AgentParent("127.0.0.1:50051", "https://127.0.0.1:8443/v1/enrol", ca_pem)
    kinds = ("ServiceAccount", "ClusterRole", "ClusterRoleBinding", "Role", "RoleBinding")
    return [o for o in compile_agent_bundle("alpha", parent) if o["kind"] in kinds]


def _delete_all(plane: ControlPlane, objects: list[dict[str, Any]]) -> None:
    for obj in reversed(objects):
        meta = obj["metadata"]
        plane.client.delete(obj["apiVersion"], obj["kind"], meta["name"], meta.get("namespace"))


def test_the_agent_removes_the_burnt_token_once_its_credentials_are_kept(
    tmp_path: Path, plane: ControlPlane, nodes: KubeClient
) -> None:
    """Post-boot state (lattice-bootstrap with token and CA, the bundle's RBAC), then
    ``agent run`` as the bundle's ServiceAccount: enrols, connects, saves its credentials,
    and only then drops the token; ca.crt stays and the token is in no log."""
    state, log = tmp_path / "state", tmp_path / "cell.log"
    cell = CellProcess(state, log)
    cell_ca = (state / "ca.crt").read_text()
    rbac = _bundle_rbac(cell_ca)
    agent: subprocess.Popen[bytes] | None = None
    try:
        plane.client.apply_all(rbac)
        issued = runner.invoke(app, ["cell", "token", "alpha", "--state-dir", str(state)])
        assert issued.exit_code == 0, issued.output
        token = issued.stdout.strip()
        made = runner.invoke(
            app,
            ["cell", "operator-cert", "--state-dir", str(state), "--out-dir", str(tmp_path / "op")],
        )
        assert made.exit_code == 0, made.output
        bootstrap = {
            "apiVersion": "v1",
            "kind": "Secret",
            "metadata": {"name": "lattice-bootstrap", "namespace": NAMESPACE},
            "data": {"token": _b64(token), "ca.crt": _b64(cell_ca)},
        }
        plane.client.create(bootstrap)
        sa = _sa_kubeconfig(plane, tmp_path / "sa.kubeconfig")
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
                    str(tmp_path / "pod"),
                    "--heartbeat-interval",
                    "0.2",
                    "--kubeconfig",
                    str(sa),
                    "--namespace",
                    NAMESPACE,
                ],
                stdout=out,
                stderr=subprocess.STDOUT,
                env=env_without_lattice(
                    LATTICE_BOOTSTRAP_TOKEN=token,
                    LATTICE_ENROL_URL=cell.enrol,
                    LATTICE_PARENT_CA=str(state / "ca.crt"),
                ),
            )
        seen = _wait_connected(agent, cell, tmp_path / "op", tmp_path / "agent.log")
        assert seen["workers"] == {"ready": 2, "total": 2}  # the SA may list nodes, too

        def token_gone() -> dict[str, Any] | None:
            secret = plane.client.get("v1", "Secret", "lattice-bootstrap", NAMESPACE)
            return None if "token" in secret["data"] else secret

        left = plane.client.wait_for(
            token_gone, timeout=WAIT, what="the token removed from lattice-bootstrap"
        )
        assert left["data"] == {"ca.crt": _b64(cell_ca)}
        # The credentials Secret was saved first: it holds what the agent connected with.
        saved = plane.client.get("v1", "Secret", "lattice-agent-credentials", NAMESPACE)
        held = AgentCredentials.load(tmp_path / "pod")
        assert saved["data"]["tls.crt"] == _b64(pki.certificate_pem(held.certificate))
        assert _stop(agent) == 0
    finally:
        if agent is not None and agent.poll() is None:
            agent.kill()
            agent.wait(10)
        cell.stop()
        for secret in ("lattice-agent-credentials", "lattice-bootstrap"):
            plane.client.delete("v1", "Secret", secret, NAMESPACE)
        _delete_all(plane, rbac)
    text = (tmp_path / "agent.log").read_text()
    assert "removed the burnt bootstrap token from Secret lattice-system/lattice-bootstrap" in text
    for logged in (text, log.read_text()):
        assert token.split(".")[2] not in logged and "PRIVATE KEY" not in logged


def test_a_parent_cell_reports_its_own_clusters_nodes(
    tmp_path: Path, plane: ControlPlane, nodes: KubeClient
) -> None:
    """root <- prod (``cell serve --parent --kubeconfig``): prod's own node counts, as its
    upstream agent watches them on the real API server, reach the root cell."""
    root_state = CellState.open(tmp_path / "root", "root")
    prod_state = CellState.open(tmp_path / "prod", "prod")
    identity = pki.ClusterIdentity("prod")
    key = pki.generate_private_key()
    cert = root_state.ca.sign_client_csr(pki.build_csr(key, identity), identity)
    AgentCredentials(key, cert, root_state.ca.certificate_pem()).save(tmp_path / "prod-up")
    op = tmp_path / "op"
    made = runner.invoke(
        app,
        ["cell", "operator-cert", "--state-dir", str(root_state.directory), "--out-dir", str(op)],
    )
    assert made.exit_code == 0, made.output
    log = tmp_path / "fleet.log"
    root = CellProcess(root_state.directory, log)
    prod: CellProcess | None = None
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
            "--kubeconfig",
            str(plane.kubeconfig_path),
            name="prod",
        )
        deadline = time.monotonic() + 15
        while True:
            seen = fleet_clusters(root, op).get("prod")
            if seen is not None and seen["agent"]["state"] == "connected":
                break
            assert time.monotonic() < deadline, log.read_text()[-3000:]
            time.sleep(0.1)
        assert (seen["phase"], seen["controlPlane"], seen["workers"]) == (
            "Degraded",
            {"ready": 1, "total": 2},
            {"ready": 2, "total": 2},
        )
        assert seen["kubernetesVersion"].startswith("v1.")

        set_ready(nodes, "cp2", True)  # refreshed every heartbeat, not only at start
        deadline = time.monotonic() + 15
        while (seen := fleet_clusters(root, op)["prod"])["phase"] != "Ready":
            assert time.monotonic() < deadline, seen
            time.sleep(0.1)
        assert seen["controlPlane"] == {"ready": 2, "total": 2}
    finally:
        if prod is not None:
            assert prod.stop() == 0
        assert root.stop() == 0
    assert "node health is not reported" not in log.read_text()
