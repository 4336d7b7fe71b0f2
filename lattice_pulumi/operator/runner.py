"""``lattice operator run``: one operator per cluster, behind a Lease.

Sequence: serve ``/healthz``, ``/readyz`` and ``/metrics`` (aiohttp, already a kopf
dependency); wait for the Lease (``leader``); run kopf cluster-wide and standalone (the
Lease replaces kopf's peering) until the process is signalled or the Lease is lost; then
release the Lease. ``/healthz`` answers 200 while the process runs; ``/readyz`` only once
this process leads, has primed its state and kopf is ready; ``/metrics`` is the Prometheus
text format. kopf logs in with its own client from the same kubeconfig (``KUBECONFIG``) or
the pod's service account; our objects go through lightkube (``lattice_pulumi.kube``).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import socket
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import kopf
from aiohttp import web

from lattice_pulumi import kube
from lattice_pulumi.compile.context import ClusterInfo
from lattice_pulumi.operator.children import CellLink, ChildrenSettings
from lattice_pulumi.operator.handlers import build_registry
from lattice_pulumi.operator.leader import LeaseElector
from lattice_pulumi.operator.metrics import CONTENT_TYPE
from lattice_pulumi.operator.runtime import Operator

__all__ = ["OperatorConfig", "run_operator"]

_log = logging.getLogger(__name__)


@dataclass(frozen=True)
class OperatorConfig:
    """How ``lattice operator run`` was asked to run."""

    cluster: str = "local"
    kubeconfig: Path | None = None
    namespace: str = "lattice-system"
    lease_name: str = "lattice-operator"
    lease_duration: float = 15.0
    identity: str = ""
    host: str = "0.0.0.0"
    port: int = 8080
    workers: int = 4
    cluster_resync: float = 10.0
    """Seconds between reconciles of the operator's own LatticeCluster (``cluster_self``)."""
    children_refresh: float = 30.0
    """Seconds between add-on health refreshes of Ready children."""
    children_wait: float = 10.0
    """Seconds before a child's provisioning step is retried while it waits."""


def _identity(config: OperatorConfig) -> str:
    return config.identity or f"{socket.gethostname()}-{os.getpid()}"


async def _serve_probes(
    operator: Operator, config: OperatorConfig, ready: asyncio.Event, leading: asyncio.Event
) -> web.AppRunner:
    async def healthz(_: web.Request) -> web.Response:
        return web.Response(text="ok\n")

    async def readyz(_: web.Request) -> web.Response:
        ok = leading.is_set() and operator.primed and ready.is_set()
        return web.Response(text="ready\n" if ok else "not ready\n", status=200 if ok else 503)

    async def metrics(_: web.Request) -> web.Response:
        return web.Response(
            body=operator.metrics.exposition(), headers={"Content-Type": CONTENT_TYPE}
        )

    app = web.Application()
    app.add_routes(
        [web.get("/healthz", healthz), web.get("/readyz", readyz), web.get("/metrics", metrics)]
    )
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    await web.TCPSite(runner, config.host, config.port).start()
    return runner


def _restore_env(name: str, value: str | None) -> None:
    if value is None:
        os.environ.pop(name, None)
    else:
        os.environ[name] = value


async def run_operator(
    config: OperatorConfig, stop: asyncio.Event, *, cell_link: CellLink | None = None
) -> int:
    """Run until ``stop`` is set (0) or the Lease is lost (1).

    ``cell_link``: this cluster's cell, for provisioning children (``operator.children``).
    """
    logging.getLogger("httpx2").setLevel(logging.WARNING)  # one line per request otherwise
    logging.getLogger("kopf.objects").setLevel(logging.WARNING)  # one line per watch event
    client = kube.connect(config.kubeconfig, timeout=30.0)
    previous_kubeconfig = os.environ.get("KUBECONFIG")
    if config.kubeconfig is not None:
        os.environ["KUBECONFIG"] = str(config.kubeconfig)  # kopf's own login reads it
    operator = Operator(
        client,
        cluster=ClusterInfo(name=config.cluster),
        workers=config.workers,
        cell_link=cell_link,
        children=ChildrenSettings(wait_delay=config.children_wait),
        children_refresh=config.children_refresh,
    )
    ready, leading = asyncio.Event(), asyncio.Event()
    probes = await _serve_probes(operator, config, ready, leading)
    elector = LeaseElector(
        client,
        name=config.lease_name,
        namespace=config.namespace,
        identity=_identity(config),
        duration=config.lease_duration,
        renew_every=max(config.lease_duration / 3, 1.0),
    )
    code = 0
    try:
        if not await elector.acquire(stop):
            return 0
        leading.set()
        operator.metrics.leader.set(1)
        code = await _lead(operator, config, elector, stop, ready)
    finally:
        operator.metrics.leader.set(0)
        if leading.is_set():
            await elector.release()
        await probes.cleanup()
        _restore_env("KUBECONFIG", previous_kubeconfig)
        await client.aclose()
    return code


async def _lead(
    operator: Operator,
    config: OperatorConfig,
    elector: LeaseElector,
    stop: asyncio.Event,
    ready: asyncio.Event,
) -> int:
    kopf_stop: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
    running = asyncio.create_task(
        kopf.operator(
            registry=build_registry(operator, cluster_resync=config.cluster_resync),
            clusterwide=True,
            standalone=True,
            stop_flag=kopf_stop,
            ready_flag=ready,
        )
    )
    holding = asyncio.create_task(elector.hold(stop))
    stopping = asyncio.create_task(stop.wait())
    done, _ = await asyncio.wait({running, holding, stopping}, return_when=asyncio.FIRST_COMPLETED)
    lost = holding in done and not stop.is_set()
    if not kopf_stop.done():
        kopf_stop.set_result(None)
    for task in (holding, stopping):
        task.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await running
    if lost:
        _log.error("lost the lease: stopping")
        return 1
    stop.set()  # kopf may have stopped on a signal of its own handling
    return 0
