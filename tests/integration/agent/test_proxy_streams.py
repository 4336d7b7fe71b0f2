"""Streaming subresources through the API proxy: the real kubectl, root -> prod -> us-east.

``kubectl exec`` (also on a terminal, ``-t``, with resizes) / ``attach`` / ``port-forward``
open upgraded connections (WebSocket by default in kubectl 1.34, SPDY/3.1 with
``KUBECTL_*_WEBSOCKETS=false``) that the cells and agents carry as raw bytes;
``kubectl logs -f`` is a response that never ends. us-east's real
API server authorizes them (as the impersonated caller) and proxies them to the node's
kubelet. No container runtime can run on this machine, so no kubelet can: the
``kubelet-standin`` (harness/kubelet.py) replaces it, serving the kubelet's endpoints with
the upstream kubelet streaming code over local processes (exec runs the command here,
attach reaches a console process, port-forward dials 127.0.0.1, logs are files).
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import fcntl
import os
import pty
import struct
import sys
import termios
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest
from conftest import CellFactory, RunningAgents, eventually
from harness.control_plane import ControlPlane
from harness.kubelet import KubeletStandIn, register_node, run_pod, start_kubelet_standin
from harness.tools import require_tools
from proxy_support import Fleet, kubectl, running_fleet, tool_env

from lattice_pulumi import pki

pytestmark = pytest.mark.integration

POD, CONTAINER, NODE, NAMESPACE = "web", "main", "standin-node", "default"
CONSOLE = 'while read -r line; do echo "console: $line"; done'
SPDY_ENV = {
    "KUBECTL_REMOTE_COMMAND_WEBSOCKETS": "false",
    "KUBECTL_PORT_FORWARD_WEBSOCKETS": "false",
}


@pytest.fixture(scope="module")
def kubelet(
    proxy_children: dict[str, ControlPlane], tmp_path_factory: pytest.TempPathFactory
) -> Iterator[KubeletStandIn]:
    """us-east's node: the stand-in, a Node pointing at it and a Running Pod bound to it."""
    plane = proxy_children["us-east"]
    standin = start_kubelet_standin(plane, tmp_path_factory.mktemp("kubelet"), CONSOLE)
    try:
        register_node(plane.client, NODE, standin.port)
        run_pod(plane.client, NAMESPACE, POD, NODE, [CONTAINER])
        yield standin
    finally:
        standin.stop()


@pytest.fixture
async def fleet(
    control_plane: ControlPlane,
    proxy_children: dict[str, ControlPlane],
    cell_factory: CellFactory,
    agents: RunningAgents,
    ca: pki.CertificateAuthority,
    server_certificate: pki.IssuedCertificate,
    kubelet: KubeletStandIn,
    tmp_path: Path,
) -> AsyncIterator[Fleet]:
    async with running_fleet(
        control_plane, proxy_children, cell_factory, agents, ca, server_certificate, tmp_path / "f"
    ) as running:
        yield running


def spdy(fleet: Fleet) -> dict[str, str]:
    return tool_env(fleet.directory, **SPDY_ENV)


def speaking(fleet: Fleet, protocol: str) -> dict[str, str]:
    """kubectl's environment for ``protocol``: WebSocket (its default) or SPDY/3.1."""
    return tool_env(fleet.directory) if protocol == "websocket" else spdy(fleet)


async def no_open_streams(fleet: Fleet) -> None:
    """Every hop's end of every stream is closed (root's and prod's tunnels)."""
    await eventually(lambda: not fleet.root.tunnels.open_streams())
    await eventually(lambda: not fleet.prod.tunnels.open_streams())


async def spawn(kubeconfig: Path, *args: str, env: dict[str, str]) -> asyncio.subprocess.Process:
    binary = require_tools("kubectl")["kubectl"].path()
    return await asyncio.create_subprocess_exec(
        str(binary),
        f"--kubeconfig={kubeconfig}",
        *args,
        stdin=asyncio.subprocess.PIPE,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
        env=env,
    )


async def readline(process: asyncio.subprocess.Process) -> str:
    assert process.stdout is not None
    return (await asyncio.wait_for(process.stdout.readline(), 20)).decode()


@contextlib.asynccontextmanager
async def stopped_at_end(process: asyncio.subprocess.Process) -> AsyncIterator[None]:
    try:
        yield
    finally:
        if process.returncode is None:
            process.kill()
        await process.communicate()  # read to the end: a paused pipe would hold wait() up


EXEC = ("exec", POD, "-c", CONTAINER, "--", "sh", "-c", "echo out; echo err >&2; exit 3")


@pytest.mark.parametrize("protocol", ["websocket", "SPDY/3.1"])
async def test_exec_returns_output_and_exit_code_two_hops_down(fleet: Fleet, protocol: str) -> None:
    bob = fleet.kubeconfig("bob", "us-east")
    env = speaking(fleet, protocol)
    code, out, err = await kubectl(bob, *EXEC, env=env)
    assert code == 3, err
    assert out == "out\n"
    assert "err\n" in err
    [entry] = [e for e in fleet.audit() if e.get("upgrade")]
    assert entry["decision"] == "allow" and entry["verb"] == "exec"
    assert entry["upgrade"] == protocol and entry["cluster"] == "us-east"
    assert entry["request"].endswith("/exec in default")
    await no_open_streams(fleet)


@pytest.mark.parametrize("protocol", ["websocket", "SPDY/3.1"])
async def test_exec_with_stdin(fleet: Fleet, protocol: str) -> None:
    bob = fleet.kubeconfig("bob", "us-east")
    env = speaking(fleet, protocol)
    process = await spawn(bob, "exec", "-i", POD, "--", "tr", "a-z", "A-Z", env=env)
    payload = b"".join(b"line %d of the input\n" % i for i in range(2000))  # ~44 KiB
    out, err = await asyncio.wait_for(process.communicate(payload), 60)
    assert process.returncode == 0, err.decode()
    assert out == payload.upper()
    await no_open_streams(fleet)


# Starts a session with its stdin as the controlling terminal, then execs argv[1:].
_CONTROLLING = (
    "import fcntl, os, sys, termios; os.setsid(); fcntl.ioctl(0, termios.TIOCSCTTY, 0); "
    "os.execv(sys.argv[1], sys.argv[1:])"
)


class Terminal:
    """A pseudo-terminal for kubectl, as a terminal emulator gives one: kubectl's controlling
    terminal, whose size the test sets (the kernel then sends kubectl SIGWINCH)."""

    def __init__(self, rows: int, cols: int) -> None:
        self.master, self.slave = pty.openpty()
        self.output = bytearray()
        self.resize(rows, cols)
        os.set_blocking(self.master, False)
        asyncio.get_running_loop().add_reader(self.master, self._read)

    def resize(self, rows: int, cols: int) -> None:
        fcntl.ioctl(self.master, termios.TIOCSWINSZ, struct.pack("HHHH", rows, cols, 0, 0))

    def _read(self) -> None:
        try:
            self.output += os.read(self.master, 65536)
        except OSError:  # EIO: every process let go of the terminal
            asyncio.get_running_loop().remove_reader(self.master)

    async def spawn(self, *argv: str, env: dict[str, str]) -> asyncio.subprocess.Process:
        """Run ``argv`` in a session of its own with this terminal as its controlling one.
        A fresh Python does the setsid and TIOCSCTTY, then execs: a ``preexec_fn`` would run
        in a fork of this process, whose gRPC threads make that unsafe."""
        process = await asyncio.create_subprocess_exec(
            sys.executable, "-c", _CONTROLLING, *argv,
            stdin=self.slave, stdout=self.slave, stderr=self.slave, env=env,
        )  # fmt: skip
        os.close(self.slave)
        return process

    async def type_until(self, keys: bytes, seen: bytes, timeout: float = 20.0) -> None:
        """Type ``keys`` every half second until ``seen`` has been printed."""
        async with asyncio.timeout(timeout):
            while seen not in self.output:
                os.write(self.master, keys)
                await asyncio.sleep(0.5)

    def close(self) -> None:
        asyncio.get_running_loop().remove_reader(self.master)
        os.close(self.master)


# Prints the terminal's size (rows cols) for every line typed; "bye" ends with code 7.
SIZES = 'while read -r line; do [ "$line" = bye ] && exit 7; stty size; done'


@pytest.mark.parametrize("protocol", ["websocket", "SPDY/3.1"])
async def test_exec_on_a_terminal_gets_kubectls_size_and_each_resize(
    fleet: Fleet, protocol: str
) -> None:
    bob = fleet.kubeconfig("bob", "us-east")
    env = speaking(fleet, protocol)
    terminal = Terminal(40, 120)
    binary = require_tools("kubectl")["kubectl"].path()
    process = await terminal.spawn(
        str(binary), f"--kubeconfig={bob}", "exec", "-it", POD, "-c", CONTAINER, "--",
        "sh", "-c", SIZES, env=env,
    )  # fmt: skip
    try:
        await terminal.type_until(b"\r", b"40 120")  # the size kubectl had at the start
        terminal.resize(50, 132)  # the kernel tells kubectl, which tells the far terminal
        await terminal.type_until(b"\r", b"50 132")
        os.write(terminal.master, b"bye\r")
        assert await asyncio.wait_for(process.wait(), 20) == 7, terminal.output.decode()
    finally:
        if process.returncode is None:
            process.kill()
            await process.wait()
        terminal.close()
    [entry] = [e for e in fleet.audit() if e.get("upgrade")]
    assert entry["upgrade"] == protocol and entry["verb"] == "exec"
    await no_open_streams(fleet)


async def test_attach_sends_stdin_to_the_console_and_streams_its_output(fleet: Fleet) -> None:
    bob = fleet.kubeconfig("bob", "us-east")
    process = await spawn(bob, "attach", "-i", POD, "-c", CONTAINER, env=tool_env(fleet.directory))
    assert process.stdin is not None
    async with stopped_at_end(process):
        for word in ("ping", "pong"):
            process.stdin.write(f"{word}\n".encode())
            await process.stdin.drain()
            assert await readline(process) == f"console: {word}\n"
        process.stdin.close()
        assert await asyncio.wait_for(process.wait(), 20) == 0
    await no_open_streams(fleet)


@contextlib.asynccontextmanager
async def echo_server() -> AsyncIterator[int]:
    """A TCP echo server on 127.0.0.1 (what the pod "listens" with)."""

    async def echo(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        while data := await reader.read(65536):
            writer.write(data)
            await writer.drain()
        writer.close()

    server = await asyncio.start_server(echo, "127.0.0.1", 0)
    try:
        yield int(server.sockets[0].getsockname()[1])
    finally:
        server.close()
        await server.wait_closed()


async def exchange(port: int, payload: bytes) -> bytes:
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    writer.write(payload)
    await writer.drain()
    received = await asyncio.wait_for(reader.readexactly(len(payload)), 20)
    writer.close()
    return received


@pytest.mark.parametrize("protocol", ["websocket", "SPDY/3.1"])
async def test_port_forward_to_an_echo_server(fleet: Fleet, protocol: str) -> None:
    bob = fleet.kubeconfig("bob", "us-east")
    env = speaking(fleet, protocol)
    async with echo_server() as target:
        process = await spawn(bob, "port-forward", f"pod/{POD}", f":{target}", env=env)
        async with stopped_at_end(process):
            line = await readline(process)  # "Forwarding from 127.0.0.1:<local> -> <target>"
            assert line.startswith("Forwarding from 127.0.0.1:"), line
            local = int(line.split(":")[1].split()[0])
            assert await exchange(local, b"hello through three hops\n") == (
                b"hello through three hops\n"
            )
            big = bytes(range(256)) * 2048  # 512 KiB: more than one credit window
            assert await exchange(local, big) == big
            process.terminate()
            await process.wait()
    await no_open_streams(fleet)
    audit = [e for e in fleet.audit() if e.get("upgrade") == protocol]
    assert audit[-1]["verb"] == "exec" and audit[-1]["request"].endswith("/portforward in default")


async def test_logs_follow_streams_lines_and_stops_when_kubectl_is_killed(
    fleet: Fleet, kubelet: KubeletStandIn
) -> None:
    kubelet.write_log(NAMESPACE, POD, CONTAINER, "first line\n")
    alice = fleet.kubeconfig("alice", "us-east")  # read-only: logs are get on pods/log
    process = await spawn(alice, "logs", "-f", POD, "-c", CONTAINER, env=tool_env(fleet.directory))
    async with stopped_at_end(process):
        assert await readline(process) == "first line\n"
        for index in range(3):
            kubelet.write_log(NAMESPACE, POD, CONTAINER, f"line {index}\n")
            assert await readline(process) == f"line {index}\n"
        assert len(fleet.root.tunnels.open_streams()) == 1
        process.kill()
    await no_open_streams(fleet)
    # us-east's API server closed its kubelet connection: the stand-in's follow ended
    await eventually(lambda: "follow ended" in kubelet.output(), timeout=20)
    [entry] = [e for e in fleet.audit() if e.get("request", "").endswith("/log in default")]
    assert entry["decision"] == "allow" and entry["verb"] == "get"


async def test_a_reader_without_exec_permit_gets_403_naming_it(
    fleet: Fleet, kubelet: KubeletStandIn
) -> None:
    alice = fleet.kubeconfig("alice", "us-east")
    code, out, _ = await kubectl(alice, "get", "pod", POD, "-o", "name")
    assert code == 0 and out.strip() == f"pod/{POD}"
    for env in (tool_env(fleet.directory), spdy(fleet)):
        code, _, err = await kubectl(alice, "exec", POD, "--", "true", env=env)
        assert code != 0
        assert "service account system:serviceaccount:people:alice may not exec" in err
        assert 'action == Lattice::Action::"exec"' in err, err
    denied = [e for e in fleet.audit() if e["decision"] == "deny"]
    assert {e["upgrade"] for e in denied} == {"websocket", "SPDY/3.1"}
    assert '["true"]' not in kubelet.output()  # nothing was forwarded


async def test_an_idle_session_is_closed_after_the_idle_timeout(fleet: Fleet) -> None:
    fleet.proxy.config = dataclasses.replace(fleet.proxy.config, upgrade_idle_timeout=1.0)
    bob = fleet.kubeconfig("bob", "us-east")
    loop = asyncio.get_running_loop()
    begun = loop.time()
    code, _, _ = await kubectl(bob, "exec", POD, "--", "sleep", "30", timeout=25)
    assert code != 0
    assert loop.time() - begun < 20
    await no_open_streams(fleet)


async def test_an_exec_whose_client_stops_reading_stops_at_its_credit_and_the_tunnel_flows_on(
    fleet: Fleet,
) -> None:
    """kubectl's stdout is a pipe nobody reads: once the buffers between the command and
    kubectl are full, us-east's agent has no credit left for that session and waits,
    while other requests through the same tunnels are answered at once."""
    bob = fleet.kubeconfig("bob", "us-east")
    flood = ("exec", POD, "--", "head", "-c", "200000000", "/dev/zero")
    process = await spawn(bob, *flood, env=tool_env(fleet.directory))
    east = fleet.agents["us-east"]

    def stalled() -> bool:
        return any(stream.credit == 0 for stream in east.proxy_streams)

    async with stopped_at_end(process):
        await eventually(stalled, 30)
        loop = asyncio.get_running_loop()
        begun = loop.time()
        for _ in range(3):
            code, _, err = await kubectl(bob, "get", "pod", POD, "-o", "name")
            assert code == 0, err
        took = loop.time() - begun
        assert took < 15, f"3 kubectl calls took {took:.1f}s beside a stalled exec"
        assert process.returncode is None  # still held back, not finished
        assert len(east.proxy_streams) == 1
        await eventually(stalled, 30)
        process.kill()
    await no_open_streams(fleet)
    await eventually(lambda: not east.proxy_streams, 30)


@pytest.mark.parametrize("protocol", ["websocket", "SPDY/3.1"])
async def test_an_upgrade_the_api_server_refuses_comes_back_as_its_status(
    fleet: Fleet, protocol: str
) -> None:
    bob = fleet.kubeconfig("bob", "us-east")
    env = speaking(fleet, protocol)
    code, _, err = await kubectl(bob, "exec", POD, "-c", "nope", "--", "true", env=env)
    assert code != 0
    assert "nope" in err and "not valid for pod" in err, err
    await no_open_streams(fleet)
