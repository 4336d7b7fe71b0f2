"""Measure the operator on a real API server: full resync, and one change to applied.

Starts an etcd + kube-apiserver + kube-controller-manager (the test harness, tools from
``scripts/build-tools``), installs the Lattice CRDs (``lattice crds``) and the mesh CRDs,
creates N LatticeServices in 10 namespaces (each calling the next one and called by the
previous one, both sides declared), then runs the real ``lattice operator run`` process:

* startup: from the process start to ``/readyz`` (Lease taken, every Lattice object and
  owned object read, kopf watching);
* full resync: from then to every service Ready at its generation (each compiled with
  the whole graph, its objects applied server-side, its status written);
* drained: until no reconcile ran for 3 s (kopf's backlog of first handlings done);
* one change (then): a service's variable changes (a PATCH); the time until its status reports
  the new generation Ready, which the operator writes after every object is applied;
  repeated on several services, median and worst printed.

Runs once per size (``--sizes``) on a fresh control plane, so resync figures can be
compared for linearity.

Limit: the harness's Service range (``SERVICE_CLUSTER_IP_RANGE``) holds about 250
Services, so sizes above that fail with "failed to allocate a serviceIP" until the harness
range is widened.

    python benchmarks/operator.py [--sizes 50,200] [--changes 7]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests" / "integration"))

from harness.control_plane import control_plane  # noqa: E402
from harness.kube import KubeClient  # noqa: E402
from harness.operator import OperatorProcess, install_operator_crds  # noqa: E402

API = "lattice.dev/v1alpha1"
NAMESPACES = 10


def service(i: int, n: int, mode: str = "fast") -> dict[str, Any]:
    callee, caller = (i + 1) % n, (i - 1) % n
    return {
        "apiVersion": API,
        "kind": "LatticeService",
        "metadata": {"name": f"svc-{i}", "namespace": f"bench-{i % NAMESPACES}"},
        "spec": {
            "containers": {"main": {"image": "nginx:1.27", "variables": {"MODE": mode}}},
            "service": {"ports": {"http": {"port": 80, "targetPort": 8080}}},
            "resources": {
                f"svc-{callee}": {
                    "type": "service",
                    "direction": "outbound",
                    "namespace": f"bench-{callee % NAMESPACES}",
                },
                f"svc-{caller}": {
                    "type": "service",
                    "direction": "inbound",
                    "namespace": f"bench-{caller % NAMESPACES}",
                },
            },
        },
    }


def ready_count(kube: KubeClient) -> int:
    items = kube.list(API, "LatticeService")
    return sum(
        1
        for o in items
        if (o.get("status") or {}).get("phase") == "Ready"
        and o["status"].get("observedGeneration") == o["metadata"]["generation"]
    )


def wait_all_ready(kube: KubeClient, n: int, timeout: float) -> float:
    start = time.perf_counter()
    while ready_count(kube) < n:
        if time.perf_counter() - start > timeout:
            raise SystemExit(f"only {ready_count(kube)}/{n} services Ready after {timeout}s")
        time.sleep(0.5)
    return time.perf_counter() - start


def reconciles(operator: OperatorProcess) -> float:
    text = operator.get("/metrics")[1]
    return next(
        (
            float(line.split()[1])
            for line in text.splitlines()
            if line.startswith("lattice_operator_reconciles_total")
        ),
        0.0,
    )


def wait_idle(operator: OperatorProcess, quiet: float = 3.0, timeout: float = 600) -> float:
    """Wait until no reconcile ran for ``quiet`` seconds (the backlog is drained)."""
    start = time.perf_counter()
    last, since = reconciles(operator), time.perf_counter()
    while time.perf_counter() - since < quiet and time.perf_counter() - start < timeout:
        time.sleep(0.5)
        now = reconciles(operator)
        if now != last:
            last, since = now, time.perf_counter()
    return time.perf_counter() - start - quiet


def time_one_change(kube: KubeClient, i: int, n: int) -> float:
    name, namespace = f"svc-{i}", f"bench-{i % NAMESPACES}"
    generation = kube.get(API, "LatticeService", name, namespace)["metadata"]["generation"]
    start = time.perf_counter()
    kube.apply(service(i, n, mode=f"changed-{generation}"))
    while True:
        status = kube.get(API, "LatticeService", name, namespace).get("status") or {}
        if status.get("observedGeneration") == generation + 1 and status.get("phase") == "Ready":
            elapsed = time.perf_counter() - start
            break
        if time.perf_counter() - start > 120:
            raise SystemExit(f"{name} did not converge in 120 s")
        time.sleep(0.01)
    config = kube.get("v1", "ConfigMap", f"{name}-main-env", namespace)
    assert config["data"]["MODE"] == f"changed-{generation}", config["data"]
    return elapsed


def run(n: int, changes: int) -> dict[str, float]:
    with control_plane(f"bench-operator-{n}") as plane, tempfile.TemporaryDirectory() as tmp:
        kube = plane.client
        install_operator_crds(kube)
        for ns in range(NAMESPACES):
            kube.apply(
                {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": f"bench-{ns}"}}
            )
        start = time.perf_counter()
        for i in range(n):
            kube.apply(service(i, n))
        created = time.perf_counter() - start
        log = Path(tmp) / "operator.log"
        operator = OperatorProcess(plane, log, lease_duration=15)
        start = time.perf_counter()
        operator.start(timeout=120)
        startup = time.perf_counter() - start  # leading, primed (every object read), kopf up
        try:
            resync = wait_all_ready(kube, n, timeout=1200)
            drained = resync + wait_idle(operator)
            times = [time_one_change(kube, (k * 97) % n, n) for k in range(changes)]
            metrics = operator.get("/metrics")[1]
        finally:
            operator.kill()
            (Path(tempfile.gettempdir()) / f"bench-operator-{n}.log").write_bytes(log.read_bytes())
    reconciles = next(
        float(line.split()[1])
        for line in metrics.splitlines()
        if line.startswith("lattice_operator_reconciles_total")
    )
    return {
        "created": created,
        "startup": startup,
        "resync": resync,
        "drained": drained,
        "change_median": statistics.median(times),
        "change_max": max(times),
        "reconciles": reconciles,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", default="50,200")
    parser.add_argument("--changes", type=int, default=7)
    args = parser.parse_args()
    sizes = [int(s) for s in args.sizes.split(",")]
    print(
        f"{'services':>9} {'create':>8} {'startup':>8} {'resync':>8} {'per svc':>8} "
        f"{'change p50':>11} {'change max':>11} {'reconciles':>10}"
    )
    for n in sizes:
        r = run(n, args.changes)
        print(
            f"{n:>9} {r['created']:>7.1f}s {r['startup']:>7.1f}s {r['resync']:>7.1f}s "
            f"{r['resync'] / n * 1000:>6.1f}ms "
            f"{r['change_median'] * 1000:>9.0f}ms {r['change_max'] * 1000:>9.0f}ms "
            f"{r['reconciles']:>10.0f}",
            flush=True,
        )
        print(f"{'':>9} backlog drained (no reconcile for 3 s) after {r['drained']:.1f}s")
    print("goal: one change under 2 s with 1,000 services; resync per service flat (linear)")


if __name__ == "__main__":
    main()
