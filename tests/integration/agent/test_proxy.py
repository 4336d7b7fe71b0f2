"""The API proxy end to end: the real kubectl through root -> prod -> us-east.

Users are ServiceAccounts of the root's control plane (tokens for the proxy's audience,
checked with TokenReview); Cedar at the root decides; the agents impersonate the caller on
their child's real API server with the bundle's least-privilege account. ``logs -f``,
``exec``, ``attach`` and ``port-forward`` (against a kubelet stand-in) are in
test_proxy_streams.py.
The long watch runs ``LATTICE_PROXY_WATCH_SECONDS`` (default 10 s here; the issue's five
minutes is ``LATTICE_PROXY_WATCH_SECONDS=300``).
"""

from __future__ import annotations

import asyncio
import json
import os
import ssl
import stat
import subprocess
import sys
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx2
import pytest
from conftest import CellFactory, RunningAgents, eventually, issue_credentials
from harness.control_plane import ControlPlane
from proxy_support import (
    AGENT_ACCOUNT,
    AUDIENCE,
    PEOPLE,
    Fleet,
    delete_quietly,
    kubectl,
    run,
    running_fleet,
    service_account_token,
    tool_env,
)

from lattice_pulumi import pki

pytestmark = pytest.mark.integration

WATCH_SECONDS = float(os.environ.get("LATTICE_PROXY_WATCH_SECONDS", "10"))


@pytest.fixture
async def fleet(
    control_plane: ControlPlane,
    proxy_children: dict[str, ControlPlane],
    cell_factory: CellFactory,
    agents: RunningAgents,
    ca: pki.CertificateAuthority,
    server_certificate: pki.IssuedCertificate,
    tmp_path: Path,
) -> AsyncIterator[Fleet]:
    async with running_fleet(
        control_plane, proxy_children, cell_factory, agents, ca, server_certificate, tmp_path / "f"
    ) as running:
        yield running


def http(fleet: Fleet, token: str | None) -> httpx2.AsyncClient:
    context = ssl.create_default_context(cafile=str(fleet.ca_file))
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    return httpx2.AsyncClient(base_url=fleet.proxy.url, verify=context, headers=headers)


def configmap(name: str, namespace: str = "default") -> dict[str, Any]:
    return {
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": {"name": name, "namespace": namespace},
        "data": {"k": name},
    }


async def test_kubectl_apply_get_and_list_two_hops_down(fleet: Fleet) -> None:
    bob = fleet.kubeconfig("bob", "us-east")
    manifest = fleet.directory / "cm.json"
    manifest.write_text(json.dumps(configmap("through-proxy")))
    code, out, err = await kubectl(bob, "apply", "-f", str(manifest))
    assert code == 0, err
    assert "configmap/through-proxy" in out
    # it landed in us-east's API server, written as bob
    stored = fleet.planes["us-east"].client.get("v1", "ConfigMap", "through-proxy", "default")
    managers = [m["manager"] for m in stored["metadata"]["managedFields"]]
    assert managers == ["kubectl-client-side-apply"]
    code, out, err = await kubectl(bob, "get", "configmap", "through-proxy", "-o", "json")
    assert code == 0, err
    assert json.loads(out)["data"] == {"k": "through-proxy"}
    code, out, err = await kubectl(bob, "get", "configmaps", "-o", "name")
    assert code == 0, err
    assert "configmap/through-proxy" in out.split()
    code, out, err = await kubectl(bob, "delete", "configmap", "through-proxy")
    assert code == 0, err


async def test_read_only_user_lists_but_cannot_delete(fleet: Fleet) -> None:
    fleet.planes["us-east"].client.apply(configmap("keep-me"))
    alice = fleet.kubeconfig("alice", "us-east")
    code, out, err = await kubectl(alice, "get", "configmaps", "-o", "name")
    assert code == 0, err
    assert "configmap/keep-me" in out.split()
    code, out, err = await kubectl(alice, "delete", "configmap", "keep-me")
    assert code != 0
    assert "service account system:serviceaccount:people:alice may not delete" in err
    assert (
        'Add: permit(principal == Lattice::ServiceAccount::"people/alice", '
        'action == Lattice::Action::"delete", resource == Lattice::Namespace::"us-east/default");'
    ) in err
    assert fleet.planes["us-east"].client.get("v1", "ConfigMap", "keep-me", "default")
    # the decision is audited with who, what and which policy
    denied = [e for e in fleet.audit() if e["decision"] == "deny" and e["verb"] == "delete"]
    assert denied[-1]["user"] == "system:serviceaccount:people:alice"
    assert denied[-1]["cluster"] == "us-east"
    assert denied[-1]["resource"] == "configmaps"
    allowed = [e for e in fleet.audit() if e["decision"] == "allow" and e["verb"] == "list"]
    assert allowed[-1]["policies"] == ["lattice-system/people[0]"]


async def test_the_403_is_a_kubernetes_status_naming_the_missing_permit(fleet: Fleet) -> None:
    async with http(fleet, fleet.tokens["carol"]) as client:
        response = await client.get("/clusters/us-east/api/v1/namespaces/default/configmaps")
    assert response.status_code == 403
    status = response.json()
    assert status["kind"] == "Status" and status["reason"] == "Forbidden"
    assert status["message"] == (
        "service account system:serviceaccount:people:carol may not list configmaps in "
        "namespace default of cluster us-east: no permit. Add: permit(principal == "
        'Lattice::ServiceAccount::"people/carol", action == Lattice::Action::"list", '
        'resource == Lattice::Namespace::"us-east/default");'
    )
    # kubectl stops at discovery (GET /api, refused as well) and, as with any API server
    # that refuses discovery, prints "Forbidden: unknown" without the Status message.
    carol = fleet.kubeconfig("carol", "us-east")
    code, _, err = await kubectl(carol, "get", "configmaps")
    assert code != 0 and "Error from server (Forbidden)" in err


async def test_labels_decide_which_clusters_a_user_reaches(fleet: Fleet) -> None:
    # bob's permit needs region us-east: prod has none
    bob = fleet.kubeconfig("bob", "prod")
    code, _, err = await kubectl(bob, "get", "configmaps")
    assert code != 0 and "Error from server (Forbidden)" in err
    for user, expected in (("alice", ["prod", "us-east"]), ("bob", ["us-east"]), ("carol", [])):
        async with http(fleet, fleet.tokens[user]) as client:
            listed = (await client.get("/v1/clusters")).json()
        assert [c["name"] for c in listed["clusters"]] == expected, user
    alice_prod = fleet.kubeconfig("alice", "prod")
    fleet.planes["prod"].client.apply(configmap("in-prod"))
    code, out, err = await kubectl(alice_prod, "get", "configmaps", "-o", "name")
    assert code == 0, err
    assert "configmap/in-prod" in out.split()  # one hop: prod's own API server


async def test_a_forged_impersonation_header_is_ignored(fleet: Fleet) -> None:
    bob = fleet.kubeconfig("bob", "us-east")
    code, out, err = await kubectl(
        bob, "auth", "whoami", "-o", "json", "--as=system:admin", "--as-group=system:masters"
    )
    assert code == 0, err
    user = json.loads(out)["status"]["userInfo"]
    assert user["username"] == "system:serviceaccount:people:bob"
    assert "system:masters" not in user["groups"]
    async with http(fleet, fleet.tokens["carol"]) as client:
        response = await client.get(
            "/clusters/us-east/api/v1/namespaces/default/configmaps",
            headers={"Impersonate-User": "system:serviceaccount:people:bob"},
        )
    assert response.status_code == 403  # still carol, who has no permit


async def test_bad_tokens_get_401_with_a_reason_and_nothing_is_forwarded(
    fleet: Fleet, control_plane: ControlPlane
) -> None:
    other_audience = service_account_token(control_plane.client, PEOPLE, "bob", ["elsewhere"])
    api_audience = service_account_token(control_plane.client, PEOPLE, "bob")
    cases = {"other audience": other_audience, "API audience": api_audience, "none": None}
    for name, token in cases.items():
        async with http(fleet, token) as client:
            response = await client.get("/clusters/us-east/api/v1/namespaces")
        assert response.status_code == 401, name
        status = response.json()
        assert status["reason"] == "Unauthorized"
        assert ("no bearer token" if token is None else AUDIENCE) in status["message"], name
    refused = [e for e in fleet.audit() if e["decision"] == "unauthenticated"]
    assert len(refused) == 3
    assert all(token not in json.dumps(refused) for token in (other_audience, api_audience))


async def test_kubectl_watch_streams_events_and_disconnect_cancels_upstream(
    fleet: Fleet,
) -> None:
    east = fleet.planes["us-east"].client
    alice = fleet.kubeconfig("alice", "us-east")
    from harness.tools import require_tools

    binary = require_tools("kubectl")["kubectl"].path()
    watcher = await asyncio.create_subprocess_exec(
        str(binary),
        f"--kubeconfig={alice}",
        "get",
        "configmaps",
        "--watch-only",
        "-o",
        "name",
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
        env=tool_env(fleet.directory),
    )
    assert watcher.stdout is not None
    seen: list[str] = []
    made: list[str] = []
    try:
        # the watch was authorized, so kubectl's list is done: later objects are events
        await eventually(lambda: any(e.get("verb") == "watch" for e in fleet.audit()))
        loop = asyncio.get_running_loop()
        deadline = loop.time() + WATCH_SECONDS
        index = 0
        while loop.time() < deadline or index < 3:
            name = f"watched-{index}"
            east.apply(configmap(name))
            made.append(name)
            line = await asyncio.wait_for(watcher.stdout.readline(), 10)
            seen.append(line.decode().strip())
            index += 1
            await asyncio.sleep(0.5)
    finally:
        watcher.terminate()
        await watcher.wait()
    assert seen == [f"configmap/{name}" for name in made]
    # the client went away: the root, prod and us-east ends of the stream all close
    await eventually(lambda: not fleet.root.tunnels.open_streams())
    await eventually(lambda: not fleet.prod.tunnels.open_streams())
    for name in made:
        delete_quietly(east, "v1", "ConfigMap", name, "default")


async def test_the_agent_account_can_only_impersonate(fleet: Fleet) -> None:
    admin = fleet.planes["us-east"].kubeconfig_path
    allowed = [
        ("impersonate", "users"),
        ("impersonate", "groups"),
        ("impersonate", "serviceaccounts"),
    ]
    refused = [
        ("create", "deployments.apps"),
        ("delete", "pods"),
        ("get", "secrets"),
        ("create", "pods"),
        ("get", "configmaps"),
        ("create", "clusterrolebindings.rbac.authorization.k8s.io"),
        ("*", "*"),
    ]
    for verb, resource in allowed + refused:
        _, out, err = await kubectl(
            admin, "auth", "can-i", verb, resource, "-A", f"--as={AGENT_ACCOUNT}"
        )
        expected = "yes" if (verb, resource) in allowed else "no"
        assert out.strip() == expected, (verb, resource, err)


async def test_a_watch_streams_over_two_hops_and_closing_it_closes_every_hop(
    fleet: Fleet,
) -> None:
    east = fleet.planes["us-east"].client
    path = "/clusters/us-east/api/v1/namespaces/default/configmaps"
    async with http(fleet, fleet.tokens["bob"]) as client:
        listed = await client.get(path)
        assert listed.status_code == 200, listed.text
        version = listed.json()["metadata"]["resourceVersion"]
        params = {"watch": "true", "resourceVersion": version}
        async with client.stream("GET", path, params=params, timeout=30) as response:
            assert response.status_code == 200
            assert response.headers["content-type"] == "application/json"
            lines = response.aiter_lines()
            for index in range(3):
                east.apply(configmap(f"streamed-{index}"))
                event = json.loads(await asyncio.wait_for(anext(lines), 10))
                assert event["type"] == "ADDED"
                assert event["object"]["metadata"]["name"] == f"streamed-{index}"
            assert len(fleet.root.tunnels.open_streams()) == 1
            assert len(fleet.prod.tunnels.open_streams()) == 1
    await eventually(lambda: not fleet.root.tunnels.open_streams())
    await eventually(lambda: not fleet.prod.tunnels.open_streams())
    for index in range(3):
        delete_quietly(east, "v1", "ConfigMap", f"streamed-{index}", "default")


async def test_login_writes_a_kubeconfig_that_kubectl_uses_through_the_token_plugin(
    fleet: Fleet, tmp_path: Path
) -> None:
    home = tmp_path / "home"
    token_file = tmp_path / "alice.token"
    token_file.write_text(fleet.tokens["alice"])
    env = tool_env(tmp_path)
    lattice = [sys.executable, "-m", "lattice_pulumi.cli"]
    code, out, err = await run(
        *lattice, "login", fleet.proxy.url, "--ca", str(fleet.ca_file),
        "--token-file", str(token_file), "--home", str(home), env=env,
    )  # fmt: skip
    assert code == 0, err
    assert "as system:serviceaccount:people:alice; 2 cluster(s): prod, us-east" in err
    kubeconfig = home / "kubeconfig"
    assert out.strip() == f"export KUBECONFIG={kubeconfig}"
    assert stat.S_IMODE(kubeconfig.stat().st_mode) == 0o600
    assert fleet.tokens["alice"] not in kubeconfig.read_text()
    fleet.planes["us-east"].client.apply(configmap("via-login"))
    code, out, err = await kubectl(kubeconfig, "get", "configmaps", "-o", "name", env=env)
    assert code == 0, err  # current context: prod (the first)
    assert "configmap/via-login" not in out.split()
    code, _, err = await run(*lattice, "use", "us-east", "--home", str(home), env=env)
    assert code == 0, err
    code, out, err = await kubectl(kubeconfig, "get", "configmaps", "-o", "name", env=env)
    assert code == 0, err
    assert "configmap/via-login" in out.split()
    code, _, err = await run(*lattice, "logout", "--home", str(home), env=env)
    assert code == 0, err
    assert not kubeconfig.exists()
    assert not list((home / "tokens").iterdir())


def test_cell_serve_runs_the_proxy_with_policies_and_an_audit_log(
    control_plane: ControlPlane, tmp_path: Path
) -> None:
    from fleet_support import CellProcess

    policies = tmp_path / "policies.cedar"
    policies.write_text(
        'permit(principal == Lattice::ServiceAccount::"people/bob", action, resource);'
    )
    audit = tmp_path / "audit.log"
    args = ["--proxy-port", "0", "--review-kubeconfig", str(control_plane.kubeconfig_path)]
    args += ["--policies", str(policies), "--audit-log", str(audit), "--token-audience", AUDIENCE]
    cell = CellProcess(tmp_path / "state", tmp_path / "cell.log", 0, *args)
    try:
        url = json.loads((tmp_path / "state" / "serving.json").read_text())["proxy"]
        context = ssl.create_default_context(cafile=str(tmp_path / "state" / "ca.crt"))
        bob = service_account_token(control_plane.client, PEOPLE, "bob", [AUDIENCE])
        with httpx2.Client(base_url=url, verify=context, trust_env=False) as client:
            anonymous = client.get("/clusters/nowhere/api/v1/pods")
            known = client.get(
                "/clusters/nowhere/api/v1/pods", headers={"Authorization": f"Bearer {bob}"}
            )
        assert anonymous.status_code == 401
        assert known.status_code == 503  # permitted, but no such cluster is connected
        assert known.json()["message"] == "cluster 'nowhere' is not in this cell's fleet"
    finally:
        assert cell.stop() == 0
    decisions = [json.loads(line)["decision"] for line in audit.read_text().splitlines()]
    assert decisions == ["unauthenticated", "allow"]


def test_cell_serve_refuses_bad_policies_and_serves_nothing(tmp_path: Path) -> None:
    from fleet_support import APP_SCRIPT, env_without_lattice

    policies = tmp_path / "bad.cedar"
    policies.write_text('permit(principal, action == Lattice::Action::"fly", resource);')
    state = tmp_path / "state"
    result = subprocess.run(
        [sys.executable, str(APP_SCRIPT), "cell", "serve", "--name", "root", "--state-dir",
         str(state), "--port", "0", "--enrol-port", "0", "--proxy-port", "0",
         "--review-kubeconfig", str(tmp_path / "unused"), "--policies", str(policies)],
        capture_output=True, text=True, env=env_without_lattice(), timeout=60,
    )  # fmt: skip
    assert result.returncode == 1
    assert "problem(s) in the proxy's policies; nothing served" in result.stderr
    assert str(policies) in result.stderr
    assert not (state / "serving.json").exists()


async def test_an_agent_of_protocol_1_1_still_connects_but_gets_no_proxied_requests(
    cell_factory: CellFactory, agents: RunningAgents, ca: pki.CertificateAuthority
) -> None:
    from lattice_pulumi.cell import CellError
    from lattice_pulumi.protocol import ProtocolVersion, pb

    # a 1.2 cell: a 1.1 agent is within one minor of it (a 1.3 cell would refuse it)
    cell = await cell_factory(protocol=ProtocolVersion(1, 2))
    old = ProtocolVersion(1, 1)
    agents.start(agents.make("old", cell.endpoint, issue_credentials(ca, "old"), protocol=old))
    await cell.registry.wait_until(
        lambda r: (rec := r.get("old")) is not None and rec.connected, 10
    )
    start = pb.ProxyStart(cluster="old", method="GET", path="/version", user="bob")
    with pytest.raises(CellError) as caught:
        async with cell.tunnels.open(start):
            pass
    assert str(caught.value) == (
        "the agent of cluster 'old' speaks protocol 1.1, which has no API proxy "
        "(needs 1.2); upgrade that agent"
    )


async def test_an_agent_of_protocol_1_2_gets_plain_requests_but_no_upgrades(
    cell_factory: CellFactory, agents: RunningAgents, ca: pki.CertificateAuthority
) -> None:
    from lattice_pulumi.cell import CellError
    from lattice_pulumi.protocol import ProtocolVersion, pb

    cell = await cell_factory()
    older = ProtocolVersion(1, 2)
    agents.start(
        agents.make("older", cell.endpoint, issue_credentials(ca, "older"), protocol=older)
    )
    await cell.registry.wait_until(
        lambda r: (rec := r.get("older")) is not None and rec.connected, 10
    )
    path = "/api/v1/namespaces/default/pods/web/exec?command=date&stdout=true"
    start = pb.ProxyStart(cluster="older", method="GET", path=path, user="bob", upgrade="SPDY/3.1")
    with pytest.raises(CellError) as caught:
        async with cell.tunnels.open(start, body=None):
            pass
    assert str(caught.value) == (
        "the agent of cluster 'older' speaks protocol 1.2, which cannot relay SPDY/3.1 "
        "(needs 1.3); upgrade that agent"
    )
    plain = pb.ProxyStart(cluster="older", method="GET", path="/version", user="bob")
    async with cell.tunnels.open(plain):
        pass  # a plain request opens a stream as before


async def test_a_watch_nobody_reads_stops_at_its_credit_and_the_tunnel_flows_on(
    fleet: Fleet,
) -> None:
    """A client that opens a watch and stops reading: once the kernel buffers between it
    and the proxy are full, the us-east agent's stream runs out of credit and waits, while
    other requests through the same tunnels are answered at once."""
    import socket

    east = fleet.planes["us-east"].client
    token = fleet.tokens["bob"]
    raw = socket.socket()
    raw.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    raw.connect(("127.0.0.1", fleet.proxy.port))
    raw.setblocking(False)
    context = ssl.create_default_context(cafile=str(fleet.ca_file))
    _, writer = await asyncio.open_connection(sock=raw, ssl=context, server_hostname="127.0.0.1")
    path = "/clusters/us-east/api/v1/namespaces/default/configmaps?watch=true"
    writer.write(
        f"GET {path} HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {token}\r\n\r\n".encode()
    )
    await writer.drain()
    big = "x" * 900_000
    names = [f"bulky-{i}" for i in range(12)]
    try:
        await eventually(lambda: len(fleet.agents["us-east"].proxy_streams) == 1)
        for name in names:  # about 11 MB of events nobody reads
            east.apply({**configmap(name), "data": {"k": big}})
        await eventually(lambda: fleet.agents["us-east"].proxy_streams[0].credit == 0, 30)
        async with http(fleet, token) as client:
            begun = asyncio.get_running_loop().time()
            for _ in range(5):
                answer = await client.get("/clusters/us-east/api/v1/namespaces/default/pods")
                assert answer.status_code == 200
            took = asyncio.get_running_loop().time() - begun
        assert took < 5, f"5 requests took {took:.1f}s beside a stalled watch"
        # Still held back: the test's StreamReader may take a little more off the socket
        # (asyncio resumes reading below its limit), but the 11 MB exhaust the credit again.
        await eventually(lambda: fleet.agents["us-east"].proxy_streams[0].credit == 0, 30)
    finally:
        writer.close()
        for name in names:
            delete_quietly(east, "v1", "ConfigMap", name, "default")
    await eventually(lambda: not fleet.agents["us-east"].proxy_streams, 30)
