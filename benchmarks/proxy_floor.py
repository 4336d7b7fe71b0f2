"""Measure the floor under the API proxy's added latency: the bare parts it is made of.

The proxy adds, per request, one HTTPS hop served by aiohttp (client to cell), one gRPC
round trip on an open bidirectional stream (cell to agent and back) and one HTTP client
request made by the agent (to the API server). This script measures each part bare, each
server in a process of its own on loopback, with nothing of lattice in between:

* ``aiohttp hop``: an aiohttp low-level server answering a 400-byte body over TLS, called
  with keep-alive by an aiohttp client and by an httpx2 client (lightkube's);
* ``grpc.aio round trip``: one message each way on an open mTLS bidirectional stream
  (bytes, no protobuf), the way the tunnel carries a small request and its answer.

Wall figures are sequential requests (p50/p99); CPU figures are per request and per
process (the server's from ``/proc``, the client's from ``process_time``), which load on a
shared machine does not inflate. Adding the CPU of the three parts gives the least CPU a
Python proxy built from these libraries can spend; the wall floor is about the sum of the
three p50s.

    python benchmarks/proxy_floor.py [--requests 3000]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import ssl
import subprocess
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from pathlib import Path

import aiohttp
import grpc
import httpx2
from aiohttp import web

from lattice_pulumi import pki

BODY = b'{"kind":"ConfigMap","apiVersion":"v1","data":{"k":"v"}}'.ljust(400)
METHOD = "/bench.Echo/Stream"


def process_cpu(pid: int) -> float:
    """User + system CPU seconds of process ``pid`` (every thread)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def percentile(samples: list[float], fraction: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))]


def write_certificates(directory: Path) -> None:
    ca = pki.CertificateAuthority.create("floor", curve="P-256")
    server = ca.issue_server_certificate(["127.0.0.1"])
    key = pki.generate_private_key()
    identity = pki.ClusterIdentity("floor-client")
    client = ca.sign_client_csr(pki.build_csr(key, identity), identity)
    (directory / "ca.crt").write_bytes(ca.certificate_pem())
    (directory / "tls.crt").write_bytes(server.certificate_pem())
    (directory / "tls.key").write_bytes(server.key_pem())
    (directory / "client.crt").write_bytes(pki.certificate_pem(client))
    (directory / "client.key").write_bytes(pki.private_key_pem(key))


# ---- servers (run in a child process) ----------------------------------------------------


async def serve_http(directory: Path) -> None:
    async def answer(request: web.BaseRequest) -> web.Response:
        return web.Response(body=BODY, content_type="application/json")

    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(directory / "tls.crt", directory / "tls.key")
    runner = web.ServerRunner(web.Server(answer), handle_signals=False)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0, ssl_context=context)
    await site.start()
    print(site._server.sockets[0].getsockname()[1], flush=True)  # type: ignore[union-attr]
    await asyncio.get_running_loop().run_in_executor(None, sys.stdin.read)
    await runner.cleanup()


async def serve_grpc(directory: Path) -> None:
    async def echo(requests: object, context: grpc.aio.ServicerContext[bytes, bytes]) -> None:
        while (message := await context.read()) is not grpc.aio.EOF:
            await context.write(message)

    handler = grpc.stream_stream_rpc_method_handler(echo)
    generic = grpc.method_handlers_generic_handler("bench.Echo", {"Stream": handler})
    server = grpc.aio.server()
    server.add_generic_rpc_handlers((generic,))
    credentials = grpc.ssl_server_credentials(
        [((directory / "tls.key").read_bytes(), (directory / "tls.crt").read_bytes())],
        root_certificates=(directory / "ca.crt").read_bytes(),
        require_client_auth=True,
    )
    port = server.add_secure_port("127.0.0.1:0", credentials)
    await server.start()
    print(port, flush=True)
    await asyncio.get_running_loop().run_in_executor(None, sys.stdin.read)
    await server.stop(None)


# ---- clients (this process) --------------------------------------------------------------


async def run_timed(
    call: Callable[[], Awaitable[None]], count: int, server_pid: int
) -> dict[str, float]:
    for _ in range(200):  # warm up
        await call()
    samples = []
    cpu, server = time.process_time(), process_cpu(server_pid)
    for _ in range(count):
        begun = time.perf_counter()
        await call()
        samples.append((time.perf_counter() - begun) * 1000)
    return {
        "p50_ms": percentile(samples, 0.5),
        "p99_ms": percentile(samples, 0.99),
        "client_cpu_ms": (time.process_time() - cpu) * 1000 / count,
        "server_cpu_ms": (process_cpu(server_pid) - server) * 1000 / count,
    }


async def aiohttp_client(port: int, directory: Path, count: int, pid: int) -> dict[str, float]:
    context = ssl.create_default_context(cafile=str(directory / "ca.crt"))
    url = f"https://127.0.0.1:{port}/api/v1/namespaces/default/configmaps/bench"
    async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(ssl=context)) as session:

        async def call() -> None:
            async with session.get(url) as response:
                await response.read()

        return await run_timed(call, count, pid)


async def httpx2_client(port: int, directory: Path, count: int, pid: int) -> dict[str, float]:
    context = ssl.create_default_context(cafile=str(directory / "ca.crt"))
    url = f"https://127.0.0.1:{port}/api/v1/namespaces/default/configmaps/bench"
    async with httpx2.AsyncClient(verify=context, trust_env=False) as client:

        async def call() -> None:
            (await client.get(url)).read()

        return await run_timed(call, count, pid)


async def grpc_client(port: int, directory: Path, count: int, pid: int) -> dict[str, float]:
    credentials = grpc.ssl_channel_credentials(
        (directory / "ca.crt").read_bytes(),
        (directory / "client.key").read_bytes(),
        (directory / "client.crt").read_bytes(),
    )
    async with grpc.aio.secure_channel(f"127.0.0.1:{port}", credentials) as channel:
        call = channel.stream_stream(METHOD)()

        async def round_trip() -> None:
            await call.write(BODY)
            await call.read()

        result = await run_timed(round_trip, count, pid)
        await call.done_writing()
        return result


def start_server(role: str, directory: Path) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, __file__, "--serve", role, "--dir", str(directory)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )


def measure(role: str, client: Callable[..., Awaitable[dict[str, float]]], directory: Path,
            count: int) -> dict[str, float]:  # fmt: skip
    server = start_server(role, directory)
    assert server.stdout is not None and server.stdin is not None
    try:
        port = int(server.stdout.readline())
        return asyncio.run(client(port, directory, count, server.pid))
    finally:
        server.stdin.close()
        server.wait(10)


def print_row(name: str, row: dict[str, float]) -> None:
    print(
        f"  {name:34} p50 {row['p50_ms']:.3f} ms  p99 {row['p99_ms']:.3f} ms   CPU/request: "
        f"client {row['client_cpu_ms']:.3f} ms, server {row['server_cpu_ms']:.3f} ms"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=3000)
    parser.add_argument("--serve", choices=["http", "grpc"], help=argparse.SUPPRESS)
    parser.add_argument("--dir", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve is not None:
        asyncio.run((serve_http if args.serve == "http" else serve_grpc)(args.dir))
        return
    print(f"load average {os.getloadavg()[0]:.2f} (1 min) on {os.cpu_count()} cores")
    with tempfile.TemporaryDirectory(prefix="lattice-bench-floor-") as name:
        directory = Path(name)
        write_certificates(directory)
        count = args.requests
        rows = {
            "aiohttp -> aiohttp hop (TLS)": measure("http", aiohttp_client, directory, count),
            "httpx2 -> aiohttp hop (TLS)": measure("http", httpx2_client, directory, count),
            "grpc.aio stream round trip (mTLS)": measure("grpc", grpc_client, directory, count),
        }
    print(f"{args.requests} sequential requests each, loopback, one process per side:")
    for name, row in rows.items():
        print_row(name, row)
    hop, grpc_trip = rows["aiohttp -> aiohttp hop (TLS)"], rows["grpc.aio stream round trip (mTLS)"]
    cpu = hop["server_cpu_ms"] + grpc_trip["client_cpu_ms"] + grpc_trip["server_cpu_ms"]
    cpu += hop["client_cpu_ms"]  # the agent's request to the API server
    wall = hop["p50_ms"] * 2 + grpc_trip["p50_ms"]
    print(
        f"floor of the proxy (server hop + gRPC round trip + agent's client request): "
        f"CPU {cpu:.3f} ms/request; wall p50 about {wall - hop['p50_ms']:.3f} ms added "
        f"(two hops and a round trip, less the direct hop)"
    )
    print(f"load average {os.getloadavg()[0]:.2f} (1 min) after")


if __name__ == "__main__":
    main()
