"""Measure the API proxy: latency it adds over direct access, its CPU per request, requests/s.

A real control plane (the integration harness's etcd + kube-apiserver) on loopback, and a
fleet of separate processes (``benchmarks/proxy_node.py``) as a real fleet runs them: the
root cell with the HTTPS proxy (TokenReview against that API server, Cedar, audit), the
agent of cluster ``bench`` below it (one hop), and ``prod`` (an agent with a cell of its
own) with ``us-east`` below that (two hops). Every agent relays to the same API server with
the agent bundle's account and impersonation. One aiohttp client GETs one small ConfigMap
directly (as the user), directly with the agent's token and the Impersonate-* headers the
agent would send ("impersonated": the API server's own share of a hop), through
``/clusters/bench/...`` and through ``/clusters/us-east/...``, in interleaved rounds; the
differences of the percentiles from direct access are what the proxy adds (cell, tunnel,
agent, and the API server's impersonation check).

Wall latency is noisy on a shared machine, so the script also prints the CPU each process
spends per request (from ``/proc``, less its idle rate), which load does not inflate, and
the load average before and after. ``benchmarks/proxy_floor.py`` measures the parts this
is built from bare (an aiohttp hop, a gRPC round trip), i.e. the floor.

    python benchmarks/proxy.py [--requests 2000] [--concurrency 16] [--profile DIR]

Goal (issue 15): p50 < 1 ms and p99 < 5 ms added; requests/s through one tunnel reported.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import ssl
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import aiohttp

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests" / "integration"))
sys.path.insert(0, str(ROOT / "tests" / "integration" / "agent"))

import proxy_floor  # noqa: E402
from harness.control_plane import ControlPlane, start_control_plane  # noqa: E402
from proxy_node import AUDIENCE  # noqa: E402
from proxy_support import (  # noqa: E402
    AGENT_NAMESPACE,
    install_child,
    service_account_token,
    token_kubeconfig,
)

from lattice_pulumi import pki  # noqa: E402

PATH = "/api/v1/namespaces/default/configmaps/bench"
NODE = Path(__file__).with_name("proxy_node.py")


def percentile(samples: list[float], fraction: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))]


def process_cpu(pid: int, tid: int | None = None) -> float:
    """User + system CPU seconds of process ``pid`` (every thread), or of its thread
    ``tid``."""
    where = f"/proc/{pid}/stat" if tid is None else f"/proc/{pid}/task/{tid}/stat"
    fields = Path(where).read_text().rpartition(")")[2].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


@dataclass
class Node:
    """One fleet process and what it printed when it started serving."""

    name: str
    process: subprocess.Popen[str]
    served: dict[str, str] = field(default_factory=dict)

    def cpu(self) -> float:
        return process_cpu(self.process.pid)

    def loop_cpu(self) -> float:
        """CPU of the main thread (the event loop; the rest is gRPC's own threads)."""
        return process_cpu(self.process.pid, self.process.pid)

    def stop(self) -> None:
        if self.process.stdin is not None:
            self.process.stdin.close()
        try:
            self.process.wait(15)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()


def start_node(
    role: str,
    name: str,
    directory: Path,
    kubeconfig: Path,
    *extra: str,
    profile: Path | None = None,
) -> Node:
    argv = [sys.executable, str(NODE), role, "--dir", str(directory), "--name", name]
    argv += ["--kubeconfig", str(kubeconfig), *extra]
    if profile is not None:
        argv += ["--profile", str(profile / f"{name}.prof")]
    process = subprocess.Popen(argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    assert process.stdout is not None
    line = process.stdout.readline()
    if not line:
        raise RuntimeError(f"{role} {name} exited before serving (code {process.wait()})")
    return Node(name, process, json.loads(line))


def prepare_plane(
    plane: ControlPlane, ca: pki.CertificateAuthority, directory: Path
) -> dict[str, Any]:
    """The agent bundle's RBAC, the ConfigMap, the user (view rights) and the kubeconfigs."""
    install_child(plane, "bench", ca.certificate_pem().decode())
    plane.client.apply(
        {"apiVersion": "v1", "kind": "ConfigMap",
         "metadata": {"name": "bench", "namespace": "default"}, "data": {"k": "v"}}
    )  # fmt: skip
    plane.client.apply(
        {"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "ClusterRoleBinding",
         "metadata": {"name": "bench-view"},
         "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole",
                     "name": "view"},
         "subjects": [{"kind": "ServiceAccount", "name": "bench", "namespace": "people"}]}
    )  # fmt: skip
    agent_token = service_account_token(plane.client, AGENT_NAMESPACE, "lattice-agent")
    return {
        "agent": agent_token,
        "user": service_account_token(plane.client, "people", "bench", [AUDIENCE]),
        "direct": service_account_token(plane.client, "people", "bench"),
        "agent_kubeconfig": token_kubeconfig(plane, agent_token, directory / "agent.kubeconfig"),
    }


def start_fleet(
    plane: ControlPlane, agent_kubeconfig: Path, directory: Path, profile: Path | None
) -> dict[str, Node]:
    nodes: dict[str, Node] = {}
    try:
        nodes["root"] = start_node(
            "cell", "root", directory, plane.kubeconfig_path, profile=profile
        )
        parent = nodes["root"].served["grpc"]
        nodes["bench"] = start_node(
            "agent", "bench", directory, agent_kubeconfig, "--parent", parent, profile=profile
        )
        nodes["prod"] = start_node(
            "agent",
            "prod",
            directory,
            agent_kubeconfig,
            "--parent",
            parent,
            "--cell",
            profile=profile,
        )
        below = nodes["prod"].served["grpc"]
        nodes["us-east"] = start_node(
            "agent", "us-east", directory, agent_kubeconfig, "--parent", below, profile=profile
        )
    except BaseException:
        for node in nodes.values():
            node.stop()
        raise
    return nodes


async def timed(client: aiohttp.ClientSession, url: str, count: int) -> list[float]:
    samples = []
    for _ in range(count):
        begun = time.perf_counter()
        async with client.get(url) as response:
            await response.read()
            if response.status != 200:
                raise RuntimeError(f"{url}: HTTP {response.status} {(await response.text())[:200]}")
        samples.append((time.perf_counter() - begun) * 1000)
    return samples


async def throughput(client: aiohttp.ClientSession, url: str, count: int, width: int) -> float:
    queue = iter(range(count))

    async def worker() -> None:
        for _ in queue:
            async with client.get(url) as response:
                await response.read()
                if response.status != 200:
                    raise RuntimeError(f"HTTP {response.status}")

    begun = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(width)))
    return count / (time.perf_counter() - begun)


async def wait_reachable(client: aiohttp.ClientSession, proxy: str, names: set[str]) -> None:
    async with asyncio.timeout(30):
        while True:
            async with client.get(f"{proxy}/v1/clusters") as response:
                listed = {c["name"] for c in (await response.json())["clusters"]}
            if names <= listed:
                return
            await asyncio.sleep(0.1)


def session(
    tls: ssl.SSLContext, token: str, width: int, extra: list[tuple[str, str]] | None = None
) -> aiohttp.ClientSession:
    headers = [("Authorization", f"Bearer {token}"), *(extra or [])]
    return aiohttp.ClientSession(
        connector=aiohttp.TCPConnector(ssl=tls, limit=width), headers=headers
    )


# What the agent sends for the bench user: its own token plus these (the groups TokenReview
# gives a ServiceAccount), so "impersonated" is the API server's share of the added latency.
IMPERSONATION = [
    ("Impersonate-User", "system:serviceaccount:people:bench"),
    ("Impersonate-Group", "system:serviceaccounts"),
    ("Impersonate-Group", "system:serviceaccounts:people"),
    ("Impersonate-Group", "system:authenticated"),
]


async def drive(
    plane: ControlPlane,
    nodes: dict[str, Node],
    tokens: dict[str, Any],
    ca_pem: str,
    requests: int,
    width: int,
) -> dict[str, Any]:
    proxy = nodes["root"].served["proxy"]
    urls = {
        "direct": plane.server + PATH,
        "impersonated": plane.server + PATH,
        "one hop": f"{proxy}/clusters/bench{PATH}",
        "two hops": f"{proxy}/clusters/us-east{PATH}",
    }
    parts = {"one hop": ("root", "bench"), "two hops": ("root", "prod", "us-east")}
    direct_tls = ssl.create_default_context(cafile=str(plane.ca_file))
    proxy_tls = ssl.create_default_context(cadata=ca_pem)
    direct = session(direct_tls, tokens["direct"], width)
    proxied = session(proxy_tls, tokens["user"], width)
    impersonating = session(direct_tls, tokens["agent"], width, IMPERSONATION)
    clients = {
        "direct": direct,
        "impersonated": impersonating,
        "one hop": proxied,
        "two hops": proxied,
    }
    samples: dict[str, list[float]] = {way: [] for way in urls}
    cpu: dict[str, dict[str, float]] = {way: {} for way in parts}
    loop: dict[str, dict[str, float]] = {way: {} for way in parts}
    idle: dict[str, float] = dict.fromkeys(nodes, 0.0)
    idle_seconds = 0.0
    async with direct, proxied, impersonating:
        await wait_reachable(proxied, proxy, {"bench", "us-east"})
        for way, url in urls.items():
            await timed(clients[way], url, 200)  # warm connections, caches
        for _ in range(4):  # interleaved rounds: background load hits every way alike
            for way, url in urls.items():
                before = {name: node.cpu() for name, node in nodes.items()}
                loop_before = {name: node.loop_cpu() for name, node in nodes.items()}
                begun = time.perf_counter()
                samples[way] += await timed(clients[way], url, requests // 4)
                spent = {name: node.cpu() - before[name] for name, node in nodes.items()}
                for name, node in nodes.items():
                    if name in parts.get(way, ()):
                        spent_loop = node.loop_cpu() - loop_before[name]
                        loop[way][name] = loop[way].get(name, 0.0) + spent_loop
                if way == "direct":  # nobody proxies: heartbeats and timers only
                    idle_seconds += time.perf_counter() - begun
                    for name in nodes:
                        idle[name] += spent[name]
                elif way in parts:
                    took = time.perf_counter() - begun
                    for name in parts[way]:
                        rate = idle[name] / idle_seconds if idle_seconds else 0.0
                        cpu[way][name] = cpu[way].get(name, 0.0) + spent[name] - rate * took
        rps = {
            "direct": await throughput(direct, urls["direct"], requests, width),
            "one hop": await throughput(proxied, urls["one hop"], requests, width),
        }
    count = requests // 4 * 4
    return {
        "samples": samples,
        "cpu_ms": {way: {n: s * 1000 / count for n, s in per.items()} for way, per in cpu.items()},
        "loop_cpu_ms": {
            way: {n: s * 1000 / count for n, s in per.items()} for way, per in loop.items()
        },
        "rps": rps,
    }


def summarize(measured: dict[str, Any]) -> dict[str, Any]:
    samples = measured["samples"]
    result: dict[str, Any] = {
        "cpu_ms_per_request": measured["cpu_ms"],
        "loop_cpu_ms_per_request": measured["loop_cpu_ms"],
        "rps": measured["rps"],
    }
    for way, values in samples.items():
        result[way] = {"p50_ms": percentile(values, 0.5), "p99_ms": percentile(values, 0.99)}
    for way in ("impersonated", "one hop", "two hops"):
        result[way]["added_p50_ms"] = result[way]["p50_ms"] - result["direct"]["p50_ms"]
        result[way]["added_p99_ms"] = result[way]["p99_ms"] - result["direct"]["p99_ms"]
    return result


def measure(directory: Path, requests: int, width: int, profile: Path | None) -> dict[str, Any]:
    plane = start_control_plane("bench-proxy", base_dir=directory, with_controller_manager=False)
    try:
        ca = pki.CertificateAuthority.create("bench", curve="P-256")
        (directory / "ca.crt").write_bytes(ca.certificate_pem())
        (directory / "ca.key").write_bytes(ca.key_pem())
        (directory / "ca.key").chmod(0o600)
        tokens = prepare_plane(plane, ca, directory)
        nodes = start_fleet(plane, tokens["agent_kubeconfig"], directory, profile)
        try:
            ca_pem = ca.certificate_pem().decode()
            measured = asyncio.run(drive(plane, nodes, tokens, ca_pem, requests, width))
        finally:
            for node in reversed(list(nodes.values())):
                node.stop()
    finally:
        plane.stop()
    return summarize(measured)


def print_report(result: dict[str, Any], requests: int, width: int) -> None:
    print(f"GET one ConfigMap, {requests} sequential requests each way (loopback)")
    direct = result["direct"]
    print(f"  direct       p50 {direct['p50_ms']:.2f} ms  p99 {direct['p99_ms']:.2f} ms")
    for way in ("impersonated", "one hop", "two hops"):
        row = result[way]
        print(
            f"  {way:12} p50 {row['p50_ms']:.2f} ms  p99 {row['p99_ms']:.2f} ms   added: "
            f"p50 {row['added_p50_ms']:.2f} ms, p99 {row['added_p99_ms']:.2f} ms"
        )
    print("  (goal: added p50 < 1 ms, p99 < 5 ms; impersonated: direct with the agent's token")
    print("   and Impersonate-* headers, the API server's own share of what a hop adds)")
    print("CPU per proxied request, per process:")
    for way, per in result["cpu_ms_per_request"].items():
        total = sum(per.values())
        listed = ", ".join(f"{name} {ms:.2f} ms" for name, ms in per.items())
        print(f"  {way:9} {listed}; total {total:.2f} ms")
        loops = result["loop_cpu_ms_per_request"][way]
        listed = ", ".join(f"{name} {ms:.2f} ms" for name, ms in loops.items())
        print(f"  {'':9} of which the event loop thread: {listed} (the rest: gRPC's threads)")
    rps = result["rps"]
    print(f"requests/s with {width} in flight:")
    print(f"  direct {rps['direct']:.0f}/s, through one tunnel {rps['one hop']:.0f}/s")


def measure_floor(count: int) -> dict[str, dict[str, float]]:
    """The bare parts (``proxy_floor.py``) measured now, under the same load."""
    with tempfile.TemporaryDirectory(prefix="lattice-bench-floor-") as name:
        directory = Path(name)
        proxy_floor.write_certificates(directory)
        return {
            "hop": proxy_floor.measure("http", proxy_floor.aiohttp_client, directory, count),
            "grpc": proxy_floor.measure("grpc", proxy_floor.grpc_client, directory, count),
        }


def print_floor(floor: dict[str, dict[str, float]], one_hop: dict[str, float]) -> None:
    """Each process's CPU against the least its libraries need, measured just now."""
    hop, grpc_trip = floor["hop"], floor["grpc"]
    cell = hop["server_cpu_ms"] + grpc_trip["client_cpu_ms"]
    agent = grpc_trip["server_cpu_ms"] + hop["client_cpu_ms"]
    print("floor now (benchmarks/proxy_floor.py: bare aiohttp hop, bare grpc.aio round trip):")
    print(
        f"  cell  {cell:.2f} ms CPU (served hop + gRPC send/receive), ours {one_hop['root']:.2f} ms"
    )
    print(f"  agent {agent:.2f} ms CPU (gRPC + client request), ours {one_hop['bench']:.2f} ms")
    wall = hop["p50_ms"] + grpc_trip["p50_ms"]
    print(f"  wall p50 of one more hop and a round trip: {wall:.2f} ms (the least added)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=2000)
    parser.add_argument("--concurrency", type=int, default=16)
    parser.add_argument("--profile", type=Path, help="write each node's cProfile stats here")
    parser.add_argument(
        "--floor-requests", type=int, default=2000, help="requests of the bare parts (0: none)"
    )
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    args = parser.parse_args()
    load_before = os.getloadavg()
    with tempfile.TemporaryDirectory(prefix="lattice-bench-proxy-") as directory:
        result = measure(Path(directory), args.requests, args.concurrency, args.profile)
    result["load_average"] = {"before": load_before[0], "after": os.getloadavg()[0]}
    result["floor"] = measure_floor(args.floor_requests) if args.floor_requests else {}
    if args.json:
        print(json.dumps(result, sort_keys=True))
        return
    load = result["load_average"]
    print(
        f"load average (1 min): {load['before']:.2f} before, {load['after']:.2f} after, "
        f"{os.cpu_count()} cores"
    )
    print_report(result, args.requests, args.concurrency)
    if result["floor"]:
        print_floor(result["floor"], result["cpu_ms_per_request"]["one hop"])


if __name__ == "__main__":
    main()
