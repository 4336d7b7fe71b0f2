"""Measure the API proxy: latency it adds over direct access, and requests/s through one tunnel.

A real control plane (the integration harness's etcd + kube-apiserver) on loopback; a cell
with the HTTPS proxy, TokenReview authentication against that API server and Cedar; one
agent (one tunnel) relaying to the same API server with the agent bundle's account and
impersonation. The same HTTP client then GETs one small ConfigMap directly (as the user) and
through ``/clusters/bench/...``; the difference of the percentiles is what the proxy adds
(aiohttp, Cedar, two gRPC frames each way, the agent's HTTP request, and the API server's
impersonation check). Client, cell and agent share this process's event loop, so the figures
include that contention; requests/s runs ``--concurrency`` requests at a time.

    python benchmarks/proxy.py [--requests 2000] [--concurrency 16]

Goal (issue 15): p50 < 1 ms and p99 < 5 ms added; requests/s through one tunnel reported.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import ssl
import statistics
import sys
import tempfile
import time
from pathlib import Path

import httpx2

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests" / "integration"))
sys.path.insert(0, str(ROOT / "tests" / "integration" / "agent"))

from harness.control_plane import start_control_plane  # noqa: E402
from proxy_support import (  # noqa: E402
    AUDIENCE,
    agent_proxy_client,
    install_child,
    service_account_token,
)

from lattice_pulumi import kube, pki  # noqa: E402
from lattice_pulumi.agent import Agent, AgentConfig, AgentCredentials, KubeProxy, StatusHolder  # noqa: E402
from lattice_pulumi.cell import CellConfig, CellServer, ProxyServer, TokenReviewAuthenticator  # noqa: E402
from lattice_pulumi.policy import CedarAuthorizer, PolicySource  # noqa: E402

POLICY = 'permit(principal == Lattice::ServiceAccount::"people/bench", action, resource);'
PATH = "/api/v1/namespaces/default/configmaps/bench"


def percentile(samples: list[float], fraction: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))]


async def timed(client: httpx2.AsyncClient, url: str, count: int) -> list[float]:
    samples = []
    for _ in range(count):
        begun = time.perf_counter()
        response = await client.get(url)
        samples.append((time.perf_counter() - begun) * 1000)
        if response.status_code != 200:
            raise RuntimeError(f"{url}: HTTP {response.status_code} {response.text[:200]}")
    return samples


async def throughput(client: httpx2.AsyncClient, url: str, count: int, width: int) -> float:
    queue = iter(range(count))

    async def worker() -> None:
        for _ in queue:
            response = await client.get(url)
            if response.status_code != 200:
                raise RuntimeError(f"HTTP {response.status_code}")

    begun = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(width)))
    return count / (time.perf_counter() - begun)


def credentials(ca: pki.CertificateAuthority, cluster: str) -> AgentCredentials:
    key = pki.generate_private_key()
    identity = pki.ClusterIdentity(cluster)
    cert = ca.sign_client_csr(pki.build_csr(key, identity), identity)
    return AgentCredentials(key, cert, ca.certificate_pem())


async def measure(directory: Path, requests: int, concurrency: int) -> dict[str, float]:
    plane = start_control_plane("bench-proxy", base_dir=directory, with_controller_manager=False)
    try:
        ca = pki.CertificateAuthority.create("bench", curve="P-256")
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
        user_token = service_account_token(plane.client, "people", "bench", [AUDIENCE])
        direct_token = service_account_token(plane.client, "people", "bench")
        server_cert = ca.issue_server_certificate(["127.0.0.1"])
        cell = CellServer(CellConfig("root"), pki.CellAuthority(ca), server_cert)
        await cell.start()
        agent_client = agent_proxy_client(plane, directory)
        review = kube.connect(plane.kubeconfig_path)
        status = StatusHolder()
        agent = Agent(
            AgentConfig(cluster="bench", endpoint=cell.endpoint),
            credentials(ca, "bench"),
            status,
            kube_proxy=KubeProxy(kube.http_client(agent_client)),
        )
        running = asyncio.create_task(agent.run())
        proxy = ProxyServer(
            cell.tunnels,
            cell.registry,
            TokenReviewAuthenticator(review, [AUDIENCE], cache_ttl=3600),
            CedarAuthorizer([PolicySource("bench", "", POLICY)]),
            server_cert,
        )
        await proxy.start()
        try:
            await asyncio.wait_for(agent.connected.wait(), 10)
            direct_tls = ssl.create_default_context(cafile=str(plane.ca_file))
            proxy_tls = ssl.create_default_context(cadata=ca.certificate_pem().decode())
            limits = httpx2.Limits(
                max_connections=concurrency, max_keepalive_connections=concurrency
            )
            direct = httpx2.AsyncClient(
                verify=direct_tls, limits=limits, trust_env=False,
                headers={"Authorization": f"Bearer {direct_token}"},
            )  # fmt: skip
            proxied = httpx2.AsyncClient(
                verify=proxy_tls, limits=limits, trust_env=False,
                headers={"Authorization": f"Bearer {user_token}"},
            )  # fmt: skip
            direct_url = plane.server + PATH
            proxied_url = f"{proxy.url}/clusters/bench{PATH}"
            async with direct, proxied:
                await timed(direct, direct_url, 100)  # warm connections, caches
                await timed(proxied, proxied_url, 100)
                direct_ms: list[float] = []
                proxied_ms: list[float] = []
                cpu = {"direct": 0.0, "proxied": 0.0}
                for _ in range(4):  # interleaved rounds: background load hits both alike
                    begun = time.process_time()
                    direct_ms += await timed(direct, direct_url, requests // 4)
                    cpu["direct"] += time.process_time() - begun
                    begun = time.process_time()
                    proxied_ms += await timed(proxied, proxied_url, requests // 4)
                    cpu["proxied"] += time.process_time() - begun
                direct_rps = await throughput(direct, direct_url, requests, concurrency)
                proxied_rps = await throughput(proxied, proxied_url, requests, concurrency)
        finally:
            await proxy.stop()
            await agent.stop()
            await asyncio.wait_for(running, 10)
            await cell.stop(None)
            await agent_client.aclose()
            await review.aclose()
    finally:
        plane.stop()
    result = {
        "direct_p50_ms": percentile(direct_ms, 0.50),
        "direct_p99_ms": percentile(direct_ms, 0.99),
        "proxied_p50_ms": percentile(proxied_ms, 0.50),
        "proxied_p99_ms": percentile(proxied_ms, 0.99),
        "direct_mean_ms": statistics.fmean(direct_ms),
        "proxied_mean_ms": statistics.fmean(proxied_ms),
        "direct_rps": direct_rps,
        "proxied_rps": proxied_rps,
    }
    # This process's CPU (client, cell, proxy, agent; not the API server) per request: the
    # proxy's own work, which scheduling delays on a busy machine do not inflate.
    result["added_cpu_ms_per_request"] = (cpu["proxied"] - cpu["direct"]) * 1000 / len(proxied_ms)
    result["added_p50_ms"] = result["proxied_p50_ms"] - result["direct_p50_ms"]
    result["added_p99_ms"] = result["proxied_p99_ms"] - result["direct_p99_ms"]
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=2000)
    parser.add_argument("--concurrency", type=int, default=16)
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="lattice-bench-proxy-") as directory:
        result = asyncio.run(measure(Path(directory), args.requests, args.concurrency))
    if args.json:
        print(json.dumps(result, sort_keys=True))
        return
    print(f"GET one ConfigMap, {args.requests} sequential requests each way (loopback)")
    print(f"  direct   p50 {result['direct_p50_ms']:.2f} ms  p99 {result['direct_p99_ms']:.2f} ms")
    print(
        f"  proxied  p50 {result['proxied_p50_ms']:.2f} ms  p99 {result['proxied_p99_ms']:.2f} ms"
    )
    print(
        f"  added    p50 {result['added_p50_ms']:.2f} ms  p99 {result['added_p99_ms']:.2f} ms"
        "   (goal: p50 < 1 ms, p99 < 5 ms)"
    )
    print(f"  CPU of cell + agent per proxied request: {result['added_cpu_ms_per_request']:.2f} ms")
    print(f"requests/s with {args.concurrency} in flight:")
    print(
        f"  direct {result['direct_rps']:.0f}/s, through one tunnel {result['proxied_rps']:.0f}/s"
    )


if __name__ == "__main__":
    main()
