"""The mesh report: every declared pair with its verdict, and what to add to fix one-sided ones.

A pair is declared when either side names the other. Only pairs both sides declare (or whose
callee accepts any caller) are allowed; a one-sided declaration is denied and reported as a
warning with the exact line to add to the other side's spec. References to services nobody
defined are reported too, as are wildcard callees (``id: "*"``), since they accept anyone.
``build_report`` is pure; ``ServiceGraph.report`` feeds it the graph's declarations.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from lattice_pulumi.compile.mesh import rule
from lattice_pulumi.compile.mesh.view import split_key
from lattice_pulumi.spec.external import LatticeExternalService
from lattice_pulumi.spec.service import LatticeService

__all__ = ["Edge", "Finding", "MeshReport", "Verdict", "build_report"]


class Verdict(enum.Enum):
    """The outcome of one declared pair."""

    ALLOWED = "allowed"
    NO_INBOUND = "denied: callee does not declare the caller"
    NO_OUTBOUND = "denied: caller does not declare the callee"
    NOT_ALLOWED = "denied: external service does not allow the caller"
    UNKNOWN = "denied: unknown service"

    @property
    def allowed(self) -> bool:
        return self is Verdict.ALLOWED


@dataclass(frozen=True, order=True)
class Edge:
    """A declared pair: ``caller`` -> ``callee`` (keys ``ns/name``) and its verdict."""

    caller: str
    callee: str
    verdict: Verdict
    external: bool = False

    def to_json(self) -> dict[str, Any]:
        return {
            "caller": self.caller,
            "callee": self.callee,
            "allowed": self.verdict.allowed,
            "verdict": self.verdict.value,
            "external": self.external,
        }


@dataclass(frozen=True, order=True)
class Finding:
    """One problem worth telling the author: where, what, and the fix when there is one."""

    subject: str
    message: str
    fix: str = ""
    severity: str = "warning"

    def __str__(self) -> str:
        return f"{self.severity}: {self.subject}: {self.message}" + (
            f"; {self.fix}" if self.fix else ""
        )


@dataclass(frozen=True)
class MeshReport:
    """Services and external services, declared pairs, findings, wildcard callees (sorted)."""

    services: tuple[str, ...]
    externals: tuple[str, ...]
    edges: tuple[Edge, ...]
    findings: tuple[Finding, ...]
    wildcard_callees: tuple[str, ...]

    def allowed(self) -> list[Edge]:
        return [e for e in self.edges if e.verdict.allowed]

    def denied(self) -> list[Edge]:
        return [e for e in self.edges if not e.verdict.allowed]

    def verdict(self, caller: str, callee: str) -> Verdict | None:
        """The verdict of a declared pair, ``None`` when neither side declared it."""
        for edge in self.edges:
            if edge.caller == caller and edge.callee == callee:
                return edge.verdict
        return None

    def to_json(self) -> dict[str, Any]:
        return {
            "services": list(self.services),
            "externalServices": list(self.externals),
            "edges": [e.to_json() for e in self.edges],
            "findings": [
                {"severity": f.severity, "subject": f.subject, "message": f.message, "fix": f.fix}
                for f in self.findings
            ],
            "wildcardCallees": list(self.wildcard_callees),
        }


def build_report(
    declarations: Mapping[str, rule.Declarations],
    services: Mapping[str, LatticeService],
    externals: Mapping[str, LatticeExternalService],
) -> MeshReport:
    """The report of a graph given every service's declarations."""
    edges: dict[tuple[str, str], Edge] = {}
    findings: list[Finding] = []
    for key in sorted(declarations):
        decl = declarations[key]
        _outbound(decl, declarations, services, edges, findings)
        _inbound(decl, declarations, services, edges, findings)
        _external(decl, externals, edges, findings)
    wildcards = tuple(k for k in sorted(declarations) if declarations[k].any_caller is not None)
    return MeshReport(
        services=tuple(sorted(declarations)),
        externals=tuple(sorted(externals)),
        edges=tuple(sorted(edges.values())),
        findings=tuple(sorted(set(findings))),
        wildcard_callees=wildcards,
    )


def _outbound(
    decl: rule.Declarations,
    declarations: Mapping[str, rule.Declarations],
    services: Mapping[str, LatticeService],
    edges: dict[tuple[str, str], Edge],
    findings: list[Finding],
) -> None:
    for peer in decl.callees:
        callee = declarations.get(peer.key)
        if callee is None:
            edges[decl.key, peer.key] = Edge(decl.key, peer.key, Verdict.UNKNOWN)
            findings.append(
                Finding(
                    decl.key, f"spec.resources.{peer.resource} calls unknown service {peer.key}"
                )
            )
        elif rule.is_allowed(decl, callee):
            edges[decl.key, peer.key] = Edge(decl.key, peer.key, Verdict.ALLOWED)
        else:
            edges[decl.key, peer.key] = Edge(decl.key, peer.key, Verdict.NO_INBOUND)
            message = f"calls {peer.key}, which does not declare it inbound: denied"
            findings.append(Finding(decl.key, message, _fix_inbound(decl.key, services[peer.key])))


def _inbound(
    decl: rule.Declarations,
    declarations: Mapping[str, rule.Declarations],
    services: Mapping[str, LatticeService],
    edges: dict[tuple[str, str], Edge],
    findings: list[Finding],
) -> None:
    for peer in decl.callers:
        caller = declarations.get(peer.key)
        if caller is None:
            edges[peer.key, decl.key] = Edge(peer.key, decl.key, Verdict.UNKNOWN)
            message = f"spec.resources.{peer.resource} accepts unknown service {peer.key}"
            findings.append(Finding(decl.key, message))
        elif decl.key not in caller.callee_keys():
            edges[peer.key, decl.key] = Edge(peer.key, decl.key, Verdict.NO_OUTBOUND)
            message = f"accepts {peer.key}, which does not declare it outbound: denied"
            findings.append(Finding(decl.key, message, _fix_outbound(decl.key, services[peer.key])))


def _external(
    decl: rule.Declarations,
    externals: Mapping[str, LatticeExternalService],
    edges: dict[tuple[str, str], Edge],
    findings: list[Finding],
) -> None:
    for peer in decl.externals:
        external = externals.get(peer.key)
        if external is None:
            verdict = Verdict.UNKNOWN
            message = f"spec.resources.{peer.resource} calls unknown external service {peer.key}"
            findings.append(Finding(decl.key, message))
        elif rule.external_allows(external, decl.key):
            verdict = Verdict.ALLOWED
        else:
            verdict = Verdict.NOT_ALLOWED
            namespace, name = split_key(decl.key)
            entry = name if namespace == external.namespace else decl.key
            message = f"calls external service {peer.key}, which does not allow it: denied"
            fix = f"add to {peer.key} spec.allowedRequesters: {entry}"
            findings.append(Finding(decl.key, message, fix))
        edges[decl.key, peer.key] = Edge(decl.key, peer.key, verdict, external=True)


def _fix_inbound(caller: str, callee: LatticeService) -> str:
    return _fix(caller, callee, "inbound")


def _fix_outbound(callee: str, caller: LatticeService) -> str:
    return _fix(callee, caller, "outbound")


def _fix(peer: str, target: LatticeService, direction: str) -> str:
    """The line to add to ``target`` so it declares ``peer`` in ``direction``."""
    where = f"{target.namespace}/{target.name}"
    namespace, name = split_key(peer)
    existing = _resource_naming(target, peer)
    if existing is not None:
        return f"change {where} spec.resources.{existing}.direction to both"
    fields = f"type: service, direction: {direction}"
    key = name
    if key in target.spec.workload.resources:
        key, fields = f"{namespace}-{name}", fields + f", id: {name}"
    if namespace != target.namespace:
        fields += f", namespace: {namespace}"
    return f"add to {where} spec.resources: {key}: {{{fields}}}"


def _resource_naming(target: LatticeService, peer: str) -> str | None:
    """The resource of ``target`` that already names ``peer`` (in the other direction)."""
    decl = rule.declarations_of(target)
    for item in (*decl.callees, *decl.callers):
        if item.key == peer:
            return item.resource
    return None
