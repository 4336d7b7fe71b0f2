"""Measure the mesh compiler: full compile, one incremental update, peak memory, linearity.

Builds N services (default 10,000) in 100 namespaces, each declaring 10 peers: 5 callees
(the next 5 services) and 5 callers (the previous 5), so every edge is declared on both
sides and allowed (50,000 edges). Times ``ServiceGraph.of`` (every service compiled), the
report, and ``graph.update`` of one service whose port changed (itself plus its 5 callers
are recompiled). Peak memory is the process's maximum RSS and, separately, the peak of
Python allocations during a full compile (tracemalloc). Runs on one core.

    python benchmarks/mesh.py [--services N]
"""

from __future__ import annotations

import argparse
import gc
import resource
import statistics
import time
import tracemalloc
from typing import Any

from lattice_pulumi.compile.mesh.graph import ServiceGraph
from lattice_pulumi.spec.service import LatticeService

NAMESPACES = 100
PEERS = 5  # callees and callers each: 10 declared peers per service


def key(i: int, n: int) -> tuple[str, str]:
    i %= n
    return f"ns{i % NAMESPACES}", f"svc{i}"


def build_service(i: int, n: int, port: int = 8080) -> LatticeService:
    namespace, name = key(i, n)
    resources: dict[str, Any] = {}
    for step in range(1, PEERS + 1):
        for direction, j in (("outbound", i + step), ("inbound", i - step)):
            peer_ns, peer = key(j, n)
            resources[f"{peer}-{direction}"] = {
                "type": "service",
                "direction": direction,
                "id": peer,
                "namespace": peer_ns,
            }
    return LatticeService.model_validate(
        {
            "apiVersion": "lattice.dev/v1alpha1",
            "kind": "LatticeService",
            "metadata": {"name": name, "namespace": namespace},
            "spec": {
                "containers": {"main": {"image": "ghcr.io/example/app:1.0"}},
                "service": {"ports": {"http": {"port": 80, "targetPort": port}}},
                "resources": resources,
            },
        }
    )


def timed(label: str, func: Any) -> tuple[float, Any]:
    start = time.perf_counter()
    value = func()
    seconds = time.perf_counter() - start
    print(f"{label:<44} {seconds * 1000:10.1f} ms")
    return seconds, value


def measure(n: int) -> None:
    print(f"== {n} services, {n * PEERS} edges ({n * 2 * PEERS} declarations)")
    _, services = timed(
        "build specs (pydantic validation, untimed)",
        lambda: [build_service(i, n) for i in range(n)],
    )
    gc.collect()
    full, graph = timed("full compile (ServiceGraph.of)", lambda: ServiceGraph.of(services))
    timed("report (verdict of every declared pair)", graph.report)
    objects = graph.all_objects()
    print(f"{'objects':<44} {len(objects):10d}")
    print(f"{'full compile per edge':<44} {full / (n * PEERS) * 1e6:10.1f} us")
    samples = []
    for i in range(50):
        changed = build_service(i * 97, n, port=9000 + i)
        start = time.perf_counter()
        keys = graph.update(changed)
        samples.append(time.perf_counter() - start)
        assert len(keys) == 1 + PEERS, keys
    print(f"{'incremental update (median of 50)':<44} {statistics.median(samples) * 1000:10.2f} ms")
    print(f"{'incremental update (max of 50)':<44} {max(samples) * 1000:10.2f} ms")


def measure_memory(n: int) -> None:
    services = [build_service(i, n) for i in range(n)]
    gc.collect()
    tracemalloc.start()
    graph = ServiceGraph.of(services)
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    print(f"{'peak Python allocations during compile':<44} {peak / 2**20:10.1f} MiB")
    del graph


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--services", type=int, default=10_000)
    args = parser.parse_args()
    for n in (args.services // 4, args.services // 2):
        measure(n)
    measure(args.services)
    measure_memory(args.services)
    peak_rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"{'peak RSS of the process':<44} {peak_rss:10.1f} MiB")


if __name__ == "__main__":
    main()
