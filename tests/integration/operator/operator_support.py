"""Helpers of the operator tests: test services, the compiled object set, waiting.

``expected`` compiles documents with the shared compiler exactly as ``lattice render``
would; ``owned`` reads what the cluster holds for one owner (and checks each object names
that owner and only it); ``managed`` counts every lattice-managed object of a namespace,
so a test can tell duplicates and leftovers from the expected set.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from typing import Any

import pytest
from harness.kube import ApiError, KubeClient
from harness.operator import OperatorProcess

from lattice_pulumi.compile.apiversions import API_VERSIONS
from lattice_pulumi.compile.context import ClusterInfo, CompileContext
from lattice_pulumi.compile.service import compile_service
from lattice_pulumi.operator.ownership import OWNER_LABEL, SERVICE_KINDS
from lattice_pulumi.policy import CedarAuthorizer
from lattice_pulumi.policy.sources import sources_in
from lattice_pulumi.spec import loader

API = "lattice.dev/v1alpha1"
TIMEOUT = 60.0


def service(name: str, namespace: str, **spec: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "containers": {"main": {"image": "nginx:1.27", "variables": {"MODE": "fast"}}},
        "service": {"ports": {"http": {"port": 80, "targetPort": 8080}}},
    }
    body.update(spec)
    return {
        "apiVersion": API,
        "kind": "LatticeService",
        "metadata": {"name": name, "namespace": namespace},
        "spec": body,
    }


def expected(
    documents: list[dict[str, Any]], name: str, namespace: str
) -> set[tuple[str, str, str]]:
    """(kind, namespace, name) of every object the compiler makes for one service."""
    result = loader.load_paths([])
    for doc in documents:
        result.extend(loader.load_text(_yaml(doc)))
    result.raise_for_errors()
    authorizer = CedarAuthorizer()
    authorizer.reload(sources_in(result.resources))
    context = CompileContext.of(list(result.resources), ClusterInfo(name="test"), authorizer)
    target = next(r for r in result.resources if r.name == name and r.namespace == namespace)
    return {
        (o["kind"], o["metadata"].get("namespace", ""), o["metadata"]["name"])
        for o in compile_service(target, context)  # type: ignore[arg-type]
    }


def _yaml(doc: dict[str, Any]) -> str:
    return json.dumps(doc)


def owned(kube: KubeClient, namespace: str, uid: str) -> set[tuple[str, str, str]]:
    found = set()
    for kind in SERVICE_KINDS:
        try:
            items = kube.list(
                API_VERSIONS[kind], kind, namespace=namespace, label_selector=f"{OWNER_LABEL}={uid}"
            )
        except (ApiError, KeyError, LookupError):
            continue
        for obj in items:
            refs = obj["metadata"].get("ownerReferences") or []
            assert [r["uid"] for r in refs] == [uid], f"{kind} {obj['metadata']['name']}: {refs}"
            found.add((kind, namespace, obj["metadata"]["name"]))
    return found


def wait(
    what: str, check: Callable[[], bool], operator: OperatorProcess, timeout: float = TIMEOUT
) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() > deadline:
            pytest.fail(f"timed out waiting for {what}\n{operator.log_tail()}", pytrace=False)
        time.sleep(0.2)


def status_of(kube: KubeClient, name: str, namespace: str) -> dict[str, Any]:
    return kube.get(API, "LatticeService", name, namespace).get("status") or {}


def converged(kube: KubeClient, name: str, namespace: str, phase: str = "Ready") -> bool:
    obj = kube.get(API, "LatticeService", name, namespace)
    status = obj.get("status") or {}
    return (
        status.get("phase") == phase
        and status.get("observedGeneration") == obj["metadata"]["generation"]
    )


def condition(status: dict[str, Any], kind: str) -> dict[str, Any]:
    return next(c for c in status["conditions"] if c["type"] == kind)


def managed(kube: KubeClient, namespace: str) -> set[tuple[str, str]]:
    """(kind, name) of every object labelled managed-by lattice in ``namespace``."""
    found = set()
    for kind in SERVICE_KINDS:
        try:
            items = kube.list(
                API_VERSIONS[kind],
                kind,
                namespace=namespace,
                label_selector="app.kubernetes.io/managed-by=lattice",
            )
        except (ApiError, LookupError):
            continue
        found |= {(kind, o["metadata"]["name"]) for o in items}
    return found
