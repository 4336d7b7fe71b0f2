"""Build a Pulumi program of N LatticeServices under mocks and print how long it takes.

Usage: python benchmarks/components.py [N ...]   (default: 100; target under 10 s for 100)
Each service has a port, three outbound and three inbound peers (both halves declared),
variables wired from two peers' ``url`` Outputs and an Output image, so the run exercises
compile, sentinel substitution and one child resource per object. Time covers the whole
program: spec validation, compile, registration of every child with the mock monitor and
resolution of every Output. Run pinned to one core for the issue's figure:
``taskset -c 0 python benchmarks/components.py``.
"""

from __future__ import annotations

import sys
import time
from typing import Any

import pulumi
import pulumi_kubernetes as k8s
from pulumi.runtime import mocks

from lattice_pulumi.components import LatticeService


class _Mocks(pulumi.runtime.Mocks):
    def new_resource(self, args: pulumi.runtime.MockResourceArgs) -> tuple[str, dict[str, Any]]:
        return f"{args.name}-id", dict(args.inputs)

    def call(self, args: pulumi.runtime.MockCallArgs) -> tuple[dict[str, Any], None]:
        return {}, None


class _CountingMonitor(mocks.MockMonitor):
    def __init__(self, mock: pulumi.runtime.Mocks) -> None:
        super().__init__(mock)
        self.count = 0

    def RegisterResource(self, request: Any) -> Any:  # noqa: N802 (gRPC method name)
        self.count += 1
        return super().RegisterResource(request)  # type: ignore[no-untyped-call]


def _spec(index: int, total: int, urls: list[pulumi.Output[str]]) -> dict[str, Any]:
    out = [f"svc-{(index + step) % total}" for step in (1, 2, 3)]
    into = [f"svc-{(index - step) % total}" for step in (1, 2, 3)]
    resources: dict[str, Any] = {p: {"type": "service", "direction": "outbound"} for p in out}
    resources |= {p: {"type": "service", "direction": "inbound"} for p in into}
    variables: dict[str, Any] = {f"PEER_{n}": url for n, url in enumerate(urls[-2:])}
    image = pulumi.Output.from_input("ghcr.io/example/app").apply(lambda r: f"{r}:1.0.{index}")
    return {
        "containers": {"main": {"image": image, "variables": variables}},
        "service": {"ports": {"http": {"port": 8080}}},
        "resources": resources,
        "replicas": 2,
    }


def program(total: int) -> pulumi.Output[Any]:
    provider = k8s.Provider("bench", render_yaml_to_directory="/nonexistent")
    opts = pulumi.ResourceOptions(provider=provider)
    urls: list[pulumi.Output[str]] = []
    names = []
    for index in range(total):
        service = LatticeService(f"svc-{index}", _spec(index, total, urls), opts, namespace="bench")
        urls.append(service.url)
        names.append(service.object_names)
    return pulumi.Output.all(*names)


def run(total: int) -> float:
    mock = _Mocks()
    monitor = _CountingMonitor(mock)
    pulumi.runtime.set_mocks(mock, monitor=monitor)
    started = time.perf_counter()

    @pulumi.runtime.test  # type: ignore[untyped-decorator]
    def build() -> pulumi.Output[Any]:
        return program(total)

    build()
    elapsed = time.perf_counter() - started
    print(
        f"{total} services: {monitor.count} resources registered in {elapsed:.2f} s "
        f"({elapsed / total * 1000:.1f} ms per service)"
    )
    return elapsed


if __name__ == "__main__":
    for size in [int(a) for a in sys.argv[1:]] or [100]:
        run(size)
