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

* warm resync: the operator is killed and a new one started over the converged cluster;
  from its ``/readyz`` until every service was reconciled once (each object verified
  against what the server holds; none needs applying);
* with ``--restart`` (largest size only): every service changes, the operator is killed
  part-way through, ten more change, and a new operator must end at exactly the compiled
  set of the latest specs (no duplicate, no drift, no lost update); checked, and timed.

Runs once per size (``--sizes``) on a fresh control plane, so resync figures can be
compared for linearity.

    python benchmarks/operator.py [--sizes 100,300,1000] [--changes 7] [--restart]
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


def counters(operator: OperatorProcess) -> dict[str, float]:
    text = operator.get("/metrics")[1]
    found = {"reconciles": 0.0, "applied": 0.0, "skipped": 0.0}
    for line in text.splitlines():
        if line.startswith("lattice_operator_reconciles_total"):
            found["reconciles"] = float(line.split()[1])
        elif line.startswith('lattice_operator_objects_total{result="applied"}'):
            found["applied"] = float(line.split()[1])
        elif line.startswith('lattice_operator_objects_total{result="skipped"}'):
            found["skipped"] = float(line.split()[1])
    return found


def wait_reconciled(operator: OperatorProcess, n: int, timeout: float = 1200) -> float:
    """Until ``n`` reconciles ran and nothing waits: a resync of a converged cluster."""
    start = time.perf_counter()
    while (
        counters(operator)["reconciles"] < n or operator.metric("lattice_operator_queue_depth") > 0
    ):
        if time.perf_counter() - start > timeout:
            raise SystemExit(f"resync did not finish in {timeout}s")
        time.sleep(0.2)
    return time.perf_counter() - start


def expected_objects(n: int, modes: dict[int, str]) -> set[tuple[str, str, str]]:
    """(kind, namespace, name) of everything the compiler makes for the benchmark's specs."""
    from lattice_pulumi.compile.context import ClusterInfo, CompileContext
    from lattice_pulumi.compile.service import compile_service
    from lattice_pulumi.operator.specs import model_from_body

    models = [model_from_body(service(i, n, modes.get(i, "fast"))) for i in range(n)]
    context = CompileContext.of(list(models), ClusterInfo(name="test"))
    return {
        (o["kind"], o["metadata"].get("namespace", ""), o["metadata"]["name"])
        for m in models
        for o in compile_service(m, context)  # type: ignore[arg-type]
    }


def managed_objects(kube: KubeClient) -> list[tuple[str, str, str]]:
    """Every lattice-managed object of the kinds the benchmark services make (a list:
    a duplicate would show twice)."""
    from lattice_pulumi.compile.apiversions import API_VERSIONS

    found = []
    for kind in ("ServiceAccount", "ConfigMap", "Deployment", "Service", *MESH_KINDS):
        for o in kube.list(
            API_VERSIONS[kind], kind, label_selector="app.kubernetes.io/managed-by=lattice"
        ):
            found.append((kind, o["metadata"]["namespace"], o["metadata"]["name"]))
    return found


MESH_KINDS = ("CiliumNetworkPolicy", "AuthorizationPolicy", "PeerAuthentication")


def restart_mid_reconcile(plane: Any, kube: KubeClient, n: int, tmp: Path) -> dict[str, float]:
    """Change every service, kill -9 the operator part-way, change ten more, start another:
    the cluster must end exactly at the compiled set of the latest specs."""
    modes = dict.fromkeys(range(n), "restart-1")
    operator = OperatorProcess(plane, tmp / "restart-a.log", lease_duration=5).start(120)
    for i in range(n):
        kube.apply(service(i, n, modes[i]))
    deadline = time.perf_counter() + 600
    while counters(operator)["reconciles"] < n + n // 3:  # its resync, then a third
        if time.perf_counter() > deadline:
            raise SystemExit(f"restart: the first operator stalled\n{operator.log_tail()}")
        time.sleep(0.05)
    operator.kill()
    for i in range(0, n, n // 10):
        modes[i] = "restart-2"
        kube.apply(service(i, n, modes[i]))
    start = time.perf_counter()
    successor = OperatorProcess(plane, tmp / "restart-b.log", lease_duration=5).start(120)
    try:
        wait_all_ready(kube, n, timeout=1200)
        elapsed = time.perf_counter() - start
        found = managed_objects(kube)
        want = expected_objects(n, modes)
        duplicates = len(found) - len(set(found))
        drift = len(set(found) ^ want)
        lost = sum(
            1
            for i, mode in modes.items()
            if kube.get("v1", "ConfigMap", f"svc-{i}-main-env", f"bench-{i % NAMESPACES}")["data"][
                "MODE"
            ]
            != mode
        )
    finally:
        successor.kill()
    if duplicates or drift or lost:
        raise SystemExit(f"restart: {duplicates} duplicates, {drift} drifted, {lost} lost")
    return {"restart": elapsed, "objects": float(len(found))}


def run(n: int, changes: int, restart: bool) -> dict[str, float]:
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
            first = counters(operator)
            times = [time_one_change(kube, (k * 97) % n, n) for k in range(changes)]
        finally:
            operator.kill()
            (Path(tempfile.gettempdir()) / f"bench-operator-{n}.log").write_bytes(log.read_bytes())
        # warm: a new operator over the converged cluster verifies and applies nothing
        warm_log = Path(tmp) / "warm.log"
        start = time.perf_counter()
        warm_operator = OperatorProcess(plane, warm_log, lease_duration=15).start(timeout=120)
        warm_startup = time.perf_counter() - start
        try:
            warm = wait_reconciled(warm_operator, n)
            warm_counts = counters(warm_operator)
        finally:
            warm_operator.kill()
        extra = restart_mid_reconcile(plane, kube, n, Path(tmp)) if restart else {}
    return {
        "created": created,
        "startup": startup,
        "resync": resync,
        "drained": drained,
        "change_median": statistics.median(times),
        "change_max": max(times),
        "reconciles": first["reconciles"],
        "applied": first["applied"],
        "warm_startup": warm_startup,
        "warm": warm,
        "warm_applied": warm_counts["applied"],
        "warm_skipped": warm_counts["skipped"],
        **extra,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", default="100,300,1000")
    parser.add_argument("--changes", type=int, default=7)
    parser.add_argument(
        "--restart", action="store_true", help="restart mid-reconcile at the largest size"
    )
    args = parser.parse_args()
    sizes = [int(s) for s in args.sizes.split(",")]
    print(
        f"{'services':>9} {'create':>8} {'startup':>8} {'resync':>8} {'per svc':>8} "
        f"{'change p50':>11} {'change max':>11} {'reconciles':>10} {'applied':>8}"
    )
    for n in sizes:
        r = run(n, args.changes, args.restart and n == max(sizes))
        print(
            f"{n:>9} {r['created']:>7.1f}s {r['startup']:>7.1f}s {r['resync']:>7.1f}s "
            f"{r['resync'] / n * 1000:>6.1f}ms "
            f"{r['change_median'] * 1000:>9.0f}ms {r['change_max'] * 1000:>9.0f}ms "
            f"{r['reconciles']:>10.0f} {r['applied']:>8.0f}",
            flush=True,
        )
        print(
            f"{'':>9} backlog drained after {r['drained']:.1f}s; warm resync (a new operator,"
            f" objects in place): startup {r['warm_startup']:.1f}s, {r['warm']:.1f}s"
            f" ({r['warm'] / n * 1000:.1f} ms per service), {r['warm_applied']:.0f} applied,"
            f" {r['warm_skipped']:.0f} skipped",
            flush=True,
        )
        if "restart" in r:
            print(
                f"{'':>9} restart mid-reconcile: converged {r['restart']:.1f}s after the new"
                f" operator started; {r['objects']:.0f} objects, 0 duplicates, 0 drifted,"
                " 0 lost updates",
                flush=True,
            )
    print("goal: one change under 2 s with 1,000 services; resync per service flat (linear)")


if __name__ == "__main__":
    main()
