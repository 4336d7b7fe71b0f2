"""Measure the pivot against ``clusterctl move`` on the same objects and API servers.

Starts two control planes (etcd + kube-apiserver, built by ``scripts/build-tools``) with
the Cluster API CRDs, creates N objects in the first (running kubeadm clusters: Cluster,
DockerCluster, KubeadmControlPlane, MachineDeployment, MachineSet, Machines with their
KubeadmConfigs, DockerMachines and Secrets, ~100 objects per cluster), then times our move
from the first to the second and ``clusterctl move`` (v1.14.2) of the same objects back.
Prints objects per second for both and the ratio (ours / clusterctl; goal >= 1).

    python benchmarks/pivot.py [--objects 100 1000]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [
    str(ROOT / "tests" / "integration"),
    str(ROOT / "tests" / "integration" / "pivot"),
    str(ROOT),
]

from harness.control_plane import ControlPlane, start_control_plane  # noqa: E402
from harness.tools import tool  # noqa: E402
from pivot_support import install_capi, seed  # noqa: E402

from lattice_pulumi.pivot import MoveOptions  # noqa: E402
from lattice_pulumi.pivot.session import move_clusters  # noqa: E402
from tests.pivot_builders import Object, ObjectSet, workload_cluster  # noqa: E402

PER_CLUSTER = 100
CONDITION = {
    "type": "ControlPlaneInitialized",
    "status": "True",
    "reason": "Initialized",
    "message": "",
    "lastTransitionTime": "2026-01-01T00:00:00Z",
}


def bench_objects(namespace: str, count: int) -> list[Object]:
    """About ``count`` objects: running clusters of ~100 objects each."""
    objects = ObjectSet(namespace)
    clusters = max(1, round(count / PER_CLUSTER))
    machines = max(1, (count // clusters - 10) // 4)
    for index in range(clusters):
        workload_cluster(objects, f"c{index}", machines=machines)
    for obj in objects.objects:
        if obj["kind"] == "Cluster":
            obj["status"] = {
                "initialization": {
                    "infrastructureProvisioned": True,
                    "controlPlaneInitialized": True,
                },
                "conditions": [CONDITION],
            }
    return objects.objects


def count_in(plane: ControlPlane, namespace: str) -> int:
    kinds = [
        ("cluster.x-k8s.io/v1beta2", "Cluster"),
        ("cluster.x-k8s.io/v1beta2", "Machine"),
        ("v1", "Secret"),
    ]
    return sum(len(plane.client.list(a, k, namespace)) for a, k in kinds)


def time_ours(source: ControlPlane, target: ControlPlane, namespace: str) -> float:
    started = time.perf_counter()
    asyncio.run(
        move_clusters(
            source.kubeconfig_path, target.kubeconfig_path, MoveOptions(namespace=namespace)
        )
    )
    return time.perf_counter() - started


def time_clusterctl(
    binary: Path, source: ControlPlane, target: ControlPlane, namespace: str, home: Path
) -> float:
    env = {**os.environ, "HOME": str(home), "CLUSTERCTL_DISABLE_VERSIONCHECK": "true"}
    command = [
        str(binary),
        "move",
        "--kubeconfig",
        str(source.kubeconfig_path),
        "--to-kubeconfig",
        str(target.kubeconfig_path),
        "--namespace",
        namespace,
    ]
    started = time.perf_counter()
    done = subprocess.run(command, env=env, capture_output=True, text=True, timeout=1800)
    elapsed = time.perf_counter() - started
    if done.returncode != 0:
        raise SystemExit(f"clusterctl move failed:\n{done.stdout}\n{done.stderr}")
    return elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--objects", type=int, nargs="+", default=[100, 1000])
    args = parser.parse_args()
    clusterctl = tool("clusterctl")
    with tempfile.TemporaryDirectory() as scratch:
        a = start_control_plane("bench-a", with_controller_manager=False, base_dir=Path(scratch))
        b = start_control_plane("bench-b", with_controller_manager=False, base_dir=Path(scratch))
        try:
            install_capi(a.client)
            install_capi(b.client)
            print(f"{'objects':>8} {'ours obj/s':>11} {'clusterctl obj/s':>17} {'ratio':>6}")
            for count in args.objects:
                namespace = f"bench-{count}"
                objects = bench_objects(namespace, count)
                seed(a.client, objects)
                n = len(objects)
                ours = time_ours(a, b, namespace)
                assert count_in(a, namespace) == 0 and count_in(b, namespace) > 0
                if not clusterctl.is_built():
                    print(f"{n:>8} {n / ours:>11.1f} {'(not built)':>17} {'-':>6}")
                    continue
                theirs = time_clusterctl(clusterctl.path(), b, a, namespace, Path(scratch))
                assert count_in(b, namespace) == 0 and count_in(a, namespace) > 0
                print(
                    f"{n:>8} {n / ours:>11.1f} {n / theirs:>17.1f} {theirs / ours:>6.2f}"
                    f"   (ours {ours:.2f}s, clusterctl {theirs:.2f}s)"
                )
        finally:
            a.stop()
            b.stop()


if __name__ == "__main__":
    main()
