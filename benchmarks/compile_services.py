"""Compile N generated services (10 dependencies each) and print throughput and peak memory.

Usage: python benchmarks/compile_services.py [N ...]   (default: 1000 10000)
Each service has two containers, variables referencing its dependencies, a secret, a
volume and 10 outbound dependencies; the context knows every service (so ports resolve).
Run it pinned to one core for the issue's figure: ``taskset -c 0 python ...``.
"""

from __future__ import annotations

import sys
import time
import tracemalloc
from typing import Any

from lattice_pulumi.compile.context import CompileContext
from lattice_pulumi.compile.service import compile_service
from lattice_pulumi.policy import CedarAuthorizer, PolicySource
from lattice_pulumi.spec.service import LatticeService

PERMIT = 'permit(principal, action == Lattice::Action::"AccessSecret", resource);'


def make_service(index: int, total: int) -> LatticeService:
    peers = [f"svc-{(index + step) % total}" for step in range(1, 11)]
    variables = {f"PEER_{n}": f"${{resources.{p}.url}}" for n, p in enumerate(peers)}
    variables["DB_URL"] = "postgres://app:${resources.db.password}@db:5432/app"
    doc: dict[str, Any] = {
        "apiVersion": "lattice.dev/v1alpha1",
        "kind": "LatticeService",
        "metadata": {"name": f"svc-{index}", "namespace": f"team-{index % 20}"},
        "spec": {
            "containers": {
                "main": {
                    "image": "ghcr.io/example/app:1.0.0",
                    "variables": variables,
                    "volumes": {"/data": {"source": "${resources.data}"}},
                    "readinessProbe": {"httpGet": {"path": "/ready", "port": 8080}},
                },
                "sidecar": {"image": "ghcr.io/example/proxy:2.0.0"},
            },
            "service": {"ports": {"http": {"port": 8080}}},
            "resources": {
                **{p: {"type": "service", "namespace": f"team-{int(p[4:]) % 20}"} for p in peers},
                "db": {"type": "secret", "id": "app/db", "params": {"provider": "vault",
                                                                     "keys": ["password"]}},
                "data": {"type": "volume", "params": {"size": "1Gi"}},
            },
            "replicas": 2,
        },
    }
    return LatticeService.model_validate(doc)


def run(total: int) -> None:
    services = [make_service(i, total) for i in range(total)]
    authorizer = CedarAuthorizer()
    authorizer.reload([PolicySource("bench", "bench", PERMIT)])
    context = CompileContext.of(list(services), authorizer=authorizer)
    started = time.perf_counter()
    count = sum(len(compile_service(s, context)) for s in services)
    elapsed = time.perf_counter() - started
    # Memory in a second pass: tracing slows Python down, so it is not timed.
    tracemalloc.start()
    kept = [compile_service(s, context) for s in services]
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    print(
        f"{total:>6} services: {elapsed:6.2f} s, {total / elapsed:7.0f} services/s, "
        f"{count} objects; peak memory holding every object {peak / 2**20:7.1f} MiB "
        f"({peak / total / 1024:.1f} KiB per service)"
    )
    del kept


def main() -> None:
    sizes = [int(a) for a in sys.argv[1:]] or [1000, 10000]
    for size in sizes:
        run(size)


if __name__ == "__main__":
    main()
