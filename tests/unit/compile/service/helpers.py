"""Builders shared by the service compiler tests: load a document, permit things, find objects."""

from __future__ import annotations

from typing import Any

from lattice_pulumi.compile.context import ClusterInfo, CompileContext
from lattice_pulumi.policy import CedarAuthorizer, PolicySource
from lattice_pulumi.spec.loader import load_text
from lattice_pulumi.spec.meta import Resource
from lattice_pulumi.spec.service import LatticeService
from tests.builders import to_yaml

PERMIT_SECRETS = 'permit(principal, action == Lattice::Action::"AccessSecret", resource);'


def load(*docs: dict[str, Any]) -> list[Resource]:
    result = load_text(to_yaml(*docs))
    assert result.errors == [], result.errors
    return result.resources


def load_service(doc: dict[str, Any]) -> LatticeService:
    (svc,) = load(doc)
    assert isinstance(svc, LatticeService)
    return svc


def authorizer(*policies: str) -> CedarAuthorizer:
    auth = CedarAuthorizer()
    report = auth.reload([PolicySource(f"p{i}", "test", text) for i, text in enumerate(policies)])
    assert not report.problems, report.problems
    return auth


def context(
    *objects: Resource, policies: tuple[str, ...] = (PERMIT_SECRETS,), **cluster: Any
) -> CompileContext:
    return CompileContext.of(
        list(objects), cluster=ClusterInfo(**cluster), authorizer=authorizer(*policies)
    )


def find(objects: list[dict[str, Any]], kind: str, name: str | None = None) -> dict[str, Any]:
    matches = [
        o for o in objects if o["kind"] == kind and (name is None or o["metadata"]["name"] == name)
    ]
    assert len(matches) == 1, f"expected one {kind} {name or ''}, found {len(matches)}"
    return matches[0]


def pod(objects: list[dict[str, Any]]) -> dict[str, Any]:
    spec: dict[str, Any] = find(objects, "Deployment")["spec"]["template"]["spec"]
    return spec


def container(objects: list[dict[str, Any]], name: str = "main") -> dict[str, Any]:
    (found,) = [c for c in pod(objects)["containers"] if c["name"] == name]
    return found
