"""The real operator process against a real API server and controller-manager.

Each test runs ``lattice operator run`` as a child process and checks the exact set of
objects the cluster holds against what the shared compiler produces for the same specs:
create, update (pruning), delete (garbage collection), a policy change turning Failed into
Ready, a peer's declaration opening both sides, and a kill in the middle of reconciling.
A hand-made ConfigMap with a similar name is never touched.
"""

from __future__ import annotations

import copy
import time
from collections.abc import Callable
from pathlib import Path
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

pytestmark = pytest.mark.integration

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
    import json

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


def test_create_update_delete_converge_to_the_compiled_set(
    kube: KubeClient, namespace: str, operator_process: OperatorProcess
) -> None:
    bystander = {
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": {
            "name": "web-main-env-old",
            "namespace": namespace,
            "labels": {"lattice.dev/service": "web"},
        },
        "data": {"hand": "made"},
    }
    kube.apply(bystander)
    web = service(
        "web",
        namespace,
        containers={
            "main": {
                "image": "nginx:1.27",
                "variables": {"MODE": "fast"},
                "files": {"/etc/web/app.conf": {"content": "x=1"}},
            }
        },
    )
    created = kube.apply(web)  # applied, so a later apply can remove fields
    uid = created["metadata"]["uid"]
    wait("web to be Ready", lambda: converged(kube, "web", namespace), operator_process)
    first = expected([web], "web", namespace)
    assert ("ConfigMap", namespace, "web-main-files") in first
    assert owned(kube, namespace, uid) == first
    status = status_of(kube, "web", namespace)
    assert condition(status, "Ready")["status"] == "True"
    assert condition(status, "Failed")["status"] == "False"
    assert status["observedGeneration"] == 1

    updated = copy.deepcopy(web)  # the files go: their ConfigMap must be pruned
    updated["spec"]["containers"]["main"].pop("files")
    kube.apply(updated)
    wait(
        "web generation 2",
        lambda: (
            converged(kube, "web", namespace)
            and status_of(kube, "web", namespace)["observedGeneration"] == 2
        ),
        operator_process,
    )
    second = expected([updated], "web", namespace)
    assert ("ConfigMap", namespace, "web-main-files") not in second
    wait("the pruned set", lambda: owned(kube, namespace, uid) == second, operator_process, 10)

    kube.delete(API, "LatticeService", "web", namespace)
    wait("garbage collection", lambda: not owned(kube, namespace, uid), operator_process)
    assert kube.get("v1", "ConfigMap", "web-main-env-old", namespace)["data"] == {"hand": "made"}
    metrics = operator_process.get("/metrics")[1]
    assert "lattice_operator_reconciles_total" in metrics
    assert "lattice_operator_queue_depth" in metrics


SECRET_PROVIDER = {
    "apiVersion": API,
    "kind": "SecretProvider",
    "metadata": {"name": "vault", "namespace": "lattice-system"},
    "spec": {
        "vault": {
            "server": "https://vault.example.com:8200",
            "path": "secret",
            "version": "v2",
            "auth": {
                "kubernetes": {
                    "role": "lattice",
                    "mountPath": "kubernetes",
                    "serviceAccountRef": {"name": "external-secrets"},
                }
            },
        }
    },
}


def permit(namespace: str) -> dict[str, Any]:
    text = (
        'permit (principal, action == Lattice::Action::"AccessSecret", resource)\n'
        f'when {{ principal.namespace == "{namespace}" && resource.provider == "vault" }};\n'
    )
    return {
        "apiVersion": API,
        "kind": "CedarPolicy",
        "metadata": {"name": "billing-secrets", "namespace": namespace},
        "spec": {"policies": text},
    }


def test_a_policy_change_turns_failed_into_ready(
    kube: KubeClient, namespace: str, operator_process: OperatorProcess
) -> None:
    kube.apply(SECRET_PROVIDER)
    billing = service(
        "billing",
        namespace,
        containers={
            "main": {"image": "nginx:1.27", "variables": {"DB_USER": "${resources.db.username}"}}
        },
        resources={
            "db": {
                "type": "secret",
                "id": "billing/db",
                "params": {"provider": "vault", "keys": ["username"]},
            }
        },
    )
    kube.apply(billing)
    wait(
        "billing Failed", lambda: converged(kube, "billing", namespace, "Failed"), operator_process
    )
    failed = condition(status_of(kube, "billing", namespace), "Failed")
    assert failed["status"] == "True"
    assert failed["reason"] == "PolicyDenied"
    assert "AccessSecret" in failed["message"]
    uid = kube.get(API, "LatticeService", "billing", namespace)["metadata"]["uid"]
    assert owned(kube, namespace, uid) == set()

    kube.apply(permit(namespace))
    wait("billing Ready", lambda: converged(kube, "billing", namespace), operator_process)
    policy = kube.get(API, "CedarPolicy", "billing-secrets", namespace)
    assert policy["status"]["phase"] == "Active"
    documents = [billing, permit(namespace)]
    wait(
        "billing's objects",
        lambda: owned(kube, namespace, uid) == expected(documents, "billing", namespace),
        operator_process,
        10,
    )
    assert ("ExternalSecret", namespace, "billing-db") in owned(kube, namespace, uid)


def test_killed_mid_reconcile_a_new_operator_converges_without_drift(
    kube: KubeClient, namespace: str, operator_process: OperatorProcess, tmp_path: Path
) -> None:
    names = [f"svc-{i}" for i in range(12)]
    documents = {name: service(name, namespace) for name in names}
    for name in names:
        kube.apply(documents[name])
    time.sleep(0.5)
    operator_process.kill()  # in the middle of the first reconciles: no lease release either
    for name in names[:4]:  # changed while no operator runs: none of these may be lost
        documents[name]["spec"]["containers"]["main"]["variables"] = {"MODE": "slow"}
        documents[name]["spec"]["service"]["ports"]["http"]["port"] = 81
        kube.apply(documents[name])
    successor = OperatorProcess(operator_process.plane, tmp_path / "successor.log").start()
    try:
        for name in names:
            wait(f"{name} Ready", lambda name=name: converged(kube, name, namespace), successor)
        total = 0
        for name in names:
            uid = kube.get(API, "LatticeService", name, namespace)["metadata"]["uid"]
            want = expected(list(documents.values()), name, namespace)
            assert owned(kube, namespace, uid) == want, name
            total += len(want)
        managed = set()
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
            managed |= {(kind, o["metadata"]["name"]) for o in items}
        assert len(managed) == total  # no duplicates, no leftovers
        svc = kube.get("v1", "Service", names[0], namespace)
        assert svc["spec"]["ports"][0]["port"] == 81  # the update made while down was applied
    finally:
        successor.kill()
