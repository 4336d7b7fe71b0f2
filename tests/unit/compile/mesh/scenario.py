"""Builders for mesh tests: services from short declarations, pods, and the compiled world."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from lattice_pulumi.compile.context import ClusterInfo, CompileContext
from lattice_pulumi.compile.mesh import (
    compile_external_mesh,
    compile_mesh_baseline,
    compile_service_mesh,
)
from lattice_pulumi.spec.external import LatticeExternalService
from lattice_pulumi.spec.service import LatticeService
from tests.unit.compile.mesh.simulator import Cluster, Pod

TARGET_PORT = 8080


def service(
    key: str,
    out: Iterable[str] = (),
    inbound: Iterable[str] = (),
    both: Iterable[str] = (),
    externals: Iterable[str] = (),
    any_caller: bool = False,
    ports: Mapping[str, int] | None = None,
) -> LatticeService:
    """A service ``ns/name``; peers are ``name`` (same namespace) or ``ns/name``."""
    namespace, name = key.split("/")
    resources: dict[str, Any] = {}
    for direction, peers in (("outbound", out), ("inbound", inbound), ("both", both)):
        for peer in peers:
            resources[_resource_key(peer, direction)] = _decl(peer, "service", direction)
    for peer in externals:
        resources[_resource_key(peer, "ext")] = _decl(peer, "external-service", None)
    if any_caller:
        resources["anyone"] = {"type": "service", "direction": "inbound", "id": "*"}
    port_map = {"http": TARGET_PORT} if ports is None else ports
    spec: dict[str, Any] = {
        "containers": {"main": {"image": "ghcr.io/example/app:1.0"}},
        "resources": resources,
    }
    if port_map:
        spec["service"] = {
            "ports": {
                n: {"port": 80 + i, "targetPort": p} for i, (n, p) in enumerate(port_map.items())
            }
        }
    return LatticeService.model_validate(
        {
            "apiVersion": "lattice.dev/v1alpha1",
            "kind": "LatticeService",
            "metadata": {"name": name, "namespace": namespace},
            "spec": spec,
        }
    )


def external(
    key: str, endpoints: Mapping[str, str], allowed: Iterable[str]
) -> LatticeExternalService:
    namespace, name = key.split("/")
    return LatticeExternalService.model_validate(
        {
            "apiVersion": "lattice.dev/v1alpha1",
            "kind": "LatticeExternalService",
            "metadata": {"name": name, "namespace": namespace},
            "spec": {"endpoints": dict(endpoints), "allowedRequesters": list(allowed)},
        }
    )


def _resource_key(peer: str, tag: str) -> str:
    return f"{peer.replace('/', '-')}-{tag}" if "/" in peer else f"{peer}-{tag}"


def _decl(peer: str, kind: str, direction: str | None) -> dict[str, Any]:
    decl: dict[str, Any] = {"type": kind}
    if direction is not None:
        decl["direction"] = direction
    if "/" in peer:
        decl["namespace"], decl["id"] = peer.split("/")
    else:
        decl["id"] = peer
    return decl


def pod(key: str) -> Pod:
    namespace, name = key.split("/")
    labels = {
        "app.kubernetes.io/name": name,
        "app.kubernetes.io/instance": name,
        "app.kubernetes.io/managed-by": "lattice",
        "lattice.dev/service": name,
    }
    return Pod(namespace, labels, name)


def compile_world(
    objects: Iterable[LatticeService | LatticeExternalService], baseline: bool = True
) -> tuple[list[dict[str, Any]], Cluster]:
    """Every object compiled one spec at a time (as a Pulumi program would), plus the baseline."""
    items = list(objects)
    context = CompileContext.of(list(items))
    manifests: list[dict[str, Any]] = []
    for item in items:
        if isinstance(item, LatticeService):
            manifests += compile_service_mesh(item, context)
        else:
            manifests += compile_external_mesh(item, context)
    if baseline:
        manifests += compile_mesh_baseline(ClusterInfo())
    return manifests, Cluster(manifests)
