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
from pathlib import Path
from typing import Any

import pytest
from harness.kube import KubeClient
from harness.operator import OperatorProcess
from operator_support import (
    API,
    condition,
    converged,
    expected,
    managed,
    owned,
    service,
    status_of,
    wait,
)

pytestmark = pytest.mark.integration


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
        assert len(managed(kube, namespace)) == total  # no duplicates, no leftovers
        svc = kube.get("v1", "Service", names[0], namespace)
        assert svc["spec"]["ports"][0]["port"] == 81  # the update made while down was applied
    finally:
        successor.kill()


def test_an_object_of_a_generated_name_made_by_hand_is_left_alone_and_named_in_the_status(
    kube: KubeClient, namespace: str, operator_process: OperatorProcess
) -> None:
    config = {
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": {"name": "shop-main-env", "namespace": namespace},
        "data": {"hand": "made"},
    }
    port = {"name": "web", "port": 8000, "targetPort": 8000, "protocol": "TCP"}
    hand_service = {
        "apiVersion": "v1",
        "kind": "Service",
        "metadata": {"name": "shop", "namespace": namespace},
        "spec": {"ports": [port], "selector": {"hand": "made"}},
    }
    kube.create(config)
    kube.create(hand_service)
    shop = service("shop", namespace)
    uid = kube.apply(shop)["metadata"]["uid"]
    wait("shop Failed", lambda: converged(kube, "shop", namespace, "Failed"), operator_process)
    failed = condition(status_of(kube, "shop", namespace), "Failed")
    assert failed["reason"] == "OwnershipConflict"
    assert (
        f"ConfigMap {namespace}/shop-main-env exists and is not managed by lattice"
        in (failed["message"])
    )
    assert f"Service {namespace}/shop exists and is not managed by lattice" in failed["message"]
    assert owned(kube, namespace, uid) == set()  # nothing applied while a name is taken
    for kind, name in (("ConfigMap", "shop-main-env"), ("Service", "shop")):
        live = kube.get("v1", kind, name, namespace)
        assert "ownerReferences" not in live["metadata"], kind
        assert not live["metadata"].get("labels"), kind
        managers = {m["manager"] for m in live["metadata"]["managedFields"]}
        assert "lattice-operator" not in managers, kind
    assert kube.get("v1", "ConfigMap", "shop-main-env", namespace)["data"] == {"hand": "made"}
    live_port = kube.get("v1", "Service", "shop", namespace)["spec"]["ports"]
    assert [(p["name"], p["port"]) for p in live_port] == [("web", 8000)]

    kube.delete("v1", "ConfigMap", "shop-main-env", namespace)  # the names are free again
    kube.delete("v1", "Service", "shop", namespace)
    wait("shop Ready", lambda: converged(kube, "shop", namespace), operator_process)
    assert owned(kube, namespace, uid) == expected([shop], "shop", namespace)
