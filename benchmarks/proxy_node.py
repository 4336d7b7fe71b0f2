"""One process of the proxy benchmark's fleet: a cell with the HTTPS proxy, or an agent
(optionally with a cell of its own for the clusters below it, as a mid-level cluster runs).

``benchmarks/proxy.py`` starts these so that each part's CPU can be read per process (from
``/proc``), as in a real fleet where cell and agents are separate processes. A node prints
one JSON line (its endpoints) when it serves, and stops when its stdin closes. With
``--profile FILE`` it runs under cProfile (CPU time of the event loop's thread, not waits)
and writes the statistics there on exit.

    python benchmarks/proxy_node.py cell --dir D --name root --kubeconfig K
    python benchmarks/proxy_node.py agent --dir D --name prod --parent H:P --kubeconfig K [--cell]
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import cProfile
import json
import sys
import time
from pathlib import Path
from typing import Any

from lattice_pulumi import kube, pki
from lattice_pulumi.agent import Agent, AgentConfig, AgentCredentials, KubeProxy, StatusHolder
from lattice_pulumi.cell import CellConfig, CellServer, ProxyServer, TokenReviewAuthenticator
from lattice_pulumi.policy import CedarAuthorizer, PolicySource

AUDIENCE = "lattice-proxy"
POLICY = 'permit(principal == Lattice::ServiceAccount::"people/bench", action, resource);'


def authority(directory: Path) -> pki.CertificateAuthority:
    return pki.CertificateAuthority.from_pem(
        (directory / "ca.crt").read_bytes(), (directory / "ca.key").read_bytes()
    )


def agent_credentials(ca: pki.CertificateAuthority, cluster: str) -> AgentCredentials:
    key = pki.generate_private_key()
    identity = pki.ClusterIdentity(cluster)
    cert = ca.sign_client_csr(pki.build_csr(key, identity), identity)
    return AgentCredentials(key, cert, ca.certificate_pem())


async def wait_for_stdin_close() -> None:
    await asyncio.get_running_loop().run_in_executor(None, sys.stdin.read)


async def run_cell(args: argparse.Namespace, ca: pki.CertificateAuthority) -> None:
    certificate = ca.issue_server_certificate(["127.0.0.1"])
    cell = CellServer(CellConfig(args.name), pki.CellAuthority(ca), certificate)
    await cell.start()
    review = kube.connect(args.kubeconfig, field_manager="lattice-cell")
    proxy = ProxyServer(
        cell.tunnels,
        cell.registry,
        TokenReviewAuthenticator(review, [AUDIENCE]),
        CedarAuthorizer([PolicySource("bench", "", POLICY)]),
        certificate,
    )
    await proxy.start()
    try:
        print(json.dumps({"grpc": cell.endpoint, "proxy": proxy.url}), flush=True)
        await wait_for_stdin_close()
    finally:
        await proxy.stop()
        await cell.stop(None)
        await review.aclose()


async def run_agent(args: argparse.Namespace, ca: pki.CertificateAuthority) -> None:
    cell: CellServer | None = None
    if args.cell:
        certificate = ca.issue_server_certificate(["127.0.0.1"])
        cell = CellServer(CellConfig(args.name), pki.CellAuthority(ca), certificate)
        await cell.start()
    client = kube.connect(args.kubeconfig, field_manager="lattice-agent")
    agent = Agent(
        AgentConfig(cluster=args.name, endpoint=args.parent, role="parent" if cell else "leaf"),
        agent_credentials(ca, args.name),
        StatusHolder(),
        subtree=cell.registry.subtree_snapshot if cell is not None else None,
        kube_proxy=KubeProxy(kube.http_client(client)),
        forward=cell.tunnels.forward if cell is not None else None,
    )
    running = asyncio.create_task(agent.run())
    try:
        await asyncio.wait_for(agent.connected.wait(), 30)
        served: dict[str, Any] = {"grpc": cell.endpoint if cell is not None else ""}
        print(json.dumps(served), flush=True)
        await wait_for_stdin_close()
    finally:
        await agent.stop()
        with contextlib.suppress(Exception):
            await asyncio.wait_for(running, 10)
        if cell is not None:
            await cell.stop(None)
        await client.aclose()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("role", choices=["cell", "agent"])
    parser.add_argument("--dir", type=Path, required=True, help="holds ca.crt and ca.key")
    parser.add_argument("--name", required=True)
    parser.add_argument("--kubeconfig", type=Path, required=True)
    parser.add_argument("--parent", default="", help="the parent cell's gRPC host:port")
    parser.add_argument("--cell", action="store_true", help="an agent with a cell below it")
    parser.add_argument("--profile", type=Path, help="write cProfile statistics here")
    args = parser.parse_args()
    ca = authority(args.dir)
    work = run_cell(args, ca) if args.role == "cell" else run_agent(args, ca)
    if args.profile is None:
        asyncio.run(work)
        return
    profile = cProfile.Profile(time.thread_time)  # CPU of the loop thread, not waits
    try:
        profile.runcall(asyncio.run, work)
    finally:
        profile.dump_stats(args.profile)


if __name__ == "__main__":
    main()
