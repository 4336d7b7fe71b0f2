"""Properties over random valid services: deterministic, owned, unique, secret-free output."""

from __future__ import annotations

import json
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from lattice_pulumi.compile.labels import MANAGED_BY, SERVICE_LABEL
from lattice_pulumi.compile.service import compile_service
from tests.unit.compile.service.helpers import context, load_service

names = st.from_regex(r"[a-z][a-z0-9]{0,6}", fullmatch=True)
tokens = st.from_regex(r"tok[A-Z]{6}", fullmatch=True)
SECRET_KEYS = ("user", "password", "token")


@st.composite
def services(draw: st.DrawFn) -> tuple[dict[str, Any], set[str]]:
    """A random valid service and the literal fragments that sit next to secret references."""
    variables: dict[str, str] = {}
    secret_fragments: set[str] = set()
    for index in range(draw(st.integers(0, 6))):
        token = f"{draw(tokens)}{index}"
        if draw(st.booleans()):
            key = draw(st.sampled_from(SECRET_KEYS))
            variables[f"V{index}"] = f"{token}-${{resources.db.{key}}}"
            secret_fragments.add(token)
        else:
            variables[f"V{index}"] = token
    containers = {"main": {"image": "ghcr.io/example/app:1", "variables": variables}}
    for name in draw(st.lists(names, max_size=2, unique=True)):
        if name != "main":
            containers[name] = {"image": "ghcr.io/example/side:1"}
    doc = {
        "apiVersion": "lattice.dev/v1alpha1",
        "kind": "LatticeService",
        "metadata": {"name": draw(names), "namespace": draw(names)},
        "spec": {
            "containers": containers,
            "service": {"ports": {"http": {"port": draw(st.integers(1, 65535))}}},
            "resources": {
                "db": {
                    "type": "secret",
                    "id": "app/db",
                    "params": {"provider": "vault", "keys": list(SECRET_KEYS)},
                }
            },
            "replicas": draw(st.integers(0, 5)),
        },
    }
    return doc, secret_fragments


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(case=services())
def test_compiled_output_properties(case: tuple[dict[str, Any], set[str]]) -> None:
    doc, fragments = case
    svc = load_service(doc)
    objects = compile_service(svc, context(svc))
    assert objects == compile_service(svc, context(svc))
    identities = [
        (o["kind"], o["metadata"].get("namespace"), o["metadata"]["name"]) for o in objects
    ]
    assert len(identities) == len(set(identities))
    for obj in objects:
        assert obj["metadata"]["labels"][MANAGED_BY] == "lattice"
        assert obj["metadata"]["labels"][SERVICE_LABEL] == svc.name
    readable = json.dumps([o for o in objects if o["kind"] != "ExternalSecret"])
    for fragment in fragments:
        assert fragment not in readable, f"{fragment} next to a secret leaked outside ESO"
