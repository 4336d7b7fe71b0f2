"""Which services the operator compiles again when a peer, a policy or a provider changes."""

from __future__ import annotations

import json
from typing import Any

import pytest

from lattice_pulumi.operator.state import ClusterState
from lattice_pulumi.spec.policy import CedarPolicy

API = "lattice.dev/v1alpha1"


def body(name: str, *, uid: str = "", **resources: Any) -> dict[str, Any]:
    return {
        "apiVersion": API,
        "kind": "LatticeService",
        "metadata": {
            "name": name,
            "namespace": "shop",
            "uid": uid or f"uid-{name}",
            "generation": 1,
            "resourceVersion": "7",
            "managedFields": [{"manager": "kubectl"}],
            "annotations": {"operator.lattice.dev/last-handled-configuration": "{}"},
        },
        "spec": {
            "containers": {"main": {"image": "nginx:1.27"}},
            "service": {"ports": {"http": {"port": 80}}},
            "resources": resources,
        },
        "status": {"phase": "Ready"},
    }


def mesh_of(state: ClusterState, key: str) -> list[dict[str, Any]]:
    return state.graph.objects(key)


def test_a_one_sided_declaration_becoming_two_sided_opens_both_sides() -> None:
    state = ClusterState()
    assert (
        state.observe_service(body("web", api={"type": "service", "direction": "outbound"}))
        == set()
    )
    # api appearing changes web (its callee's ports are known now)
    assert state.observe_service(body("api")) == {"shop/web"}
    assert "sa/web" not in json.dumps(mesh_of(state, "shop/api"))  # one-sided: api denies web
    # api allowing web changes api's own objects (the handler compiles api itself) ...
    state.observe_service(body("api", web={"type": "service", "direction": "inbound"}))
    assert "sa/web" in json.dumps(mesh_of(state, "shop/api"))
    # ... and web's egress towards api is in web's objects
    assert '"lattice.dev/service": "api"' in json.dumps(mesh_of(state, "shop/web"))


def test_an_unchanged_body_recompiles_nothing() -> None:
    state = ClusterState()
    state.observe_service(body("web", api={"type": "service", "direction": "outbound"}))
    state.observe_service(body("api", web={"type": "service", "direction": "inbound"}))
    assert (
        state.observe_service(body("api", web={"type": "service", "direction": "inbound"})) == set()
    )


def test_deleting_a_callee_recompiles_its_callers() -> None:
    state = ClusterState()
    state.observe_service(body("web", api={"type": "service", "direction": "outbound"}))
    state.observe_service(body("api", web={"type": "service", "direction": "inbound"}))
    assert state.forget_service("shop/api") == {"shop/web"}
    assert "shop/api" not in state.bodies


def test_an_invalid_body_keeps_the_last_valid_model_in_the_graph() -> None:
    state = ClusterState()
    state.observe_service(body("api"))
    broken = body("api")
    broken["spec"]["replicas"] = "many"
    state.observe_service(broken)
    assert "shop/api" in state.services
    assert "replicas" in str(state.invalid["shop/api"])


SECRET = {"type": "secret", "id": "shop/db", "params": {"provider": "vault", "keys": ["user"]}}


def policy(text: str) -> CedarPolicy:
    return CedarPolicy.model_validate(
        {
            "apiVersion": API,
            "kind": "CedarPolicy",
            "metadata": {"name": "p", "namespace": "shop"},
            "spec": {"policies": text},
        }
    )


PERMIT = 'permit (principal, action == Lattice::Action::"AccessSecret", resource);'


def test_a_policy_change_recompiles_only_services_that_asked_the_authorizer() -> None:
    state = ClusterState()
    state.observe_service(body("plain"))
    state.observe_service(body("billing", db=SECRET))
    for key in ("shop/plain", "shop/billing"):
        _, recorder = state.context_for(key)
        if key == "shop/billing":
            recorder.can_access_secret("shop", "billing", "vault", "shop/db")
        state.note_compiled(key, recorder)
    assert state.observe_policy(policy(PERMIT)) == {"shop/billing"}
    assert state.observe_policy(policy(PERMIT)) == set()  # the same text again
    assert state.forget_policy("shop/p") == {"shop/billing"}


@pytest.mark.parametrize("provider", ["vault"])
def test_a_secret_provider_appearing_recompiles_its_users(provider: str) -> None:
    state = ClusterState()
    state.observe_service(body("billing", db=SECRET))
    state.observe_service(body("plain"))
    service = state.services["shop/billing"]
    assert state.missing_providers(service) == [provider]
    assert state.observe_secret_provider("lattice-system/vault", provider) == {"shop/billing"}
    assert state.missing_providers(service) == []
    assert state.forget_secret_provider("lattice-system/vault", provider) == {"shop/billing"}
