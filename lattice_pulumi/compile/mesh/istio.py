"""Istio objects of one service or external service: who may call it, mTLS, external hosts.

* ``AuthorizationPolicy`` (ALLOW, selector on the service's pods): one rule per port set with
  the SPIFFE principals of the declared callers (``<trust-domain>/ns/<ns>/sa/<name>``; the
  service account is named after the service), or ``*`` (any authenticated peer) for
  ``id: "*"``. Istio denies a request to a workload that has ALLOW policies unless one of
  their rules matches, so a policy without rules denies every caller: a service nobody may
  call still gets one, which keeps it closed even without the mesh-wide baseline.
* ``PeerAuthentication`` STRICT per service, so the principals above are always verified.
* ``ServiceEntry`` per external service: hosts, ports with the protocol of the URL scheme,
  DNS or STATIC resolution, ``MESH_EXTERNAL``, exported to its own namespace and the
  namespaces of its allowed requesters.

Only L4 attributes (principals, ports) are used, which ztunnel enforces by itself in ambient
mode, so no waypoint is generated. A waypoint (``Gateway`` of class ``istio-waypoint``,
policies bound with ``targetRefs``) becomes necessary once a rule needs L7 attributes
(methods, paths, headers, JWT claims) or identity-aware egress control to external hosts;
``build_waypoint`` builds it for that day.
"""

from __future__ import annotations

import ipaddress
from typing import Any

from lattice_pulumi.compile import apiversions, labels
from lattice_pulumi.compile.mesh import rule
from lattice_pulumi.compile.mesh.view import MeshView, PortRef, principal, service_ports
from lattice_pulumi.spec.external import Endpoint, LatticeExternalService
from lattice_pulumi.spec.service import LatticeService

__all__ = [
    "SCHEME_PROTOCOLS",
    "build_authorization_policy",
    "build_peer_authentication",
    "build_service_entry",
    "build_waypoint",
]

SCHEME_PROTOCOLS = {
    "amqp": "TCP",
    "amqps": "TLS",
    "grpc": "GRPC",
    "http": "HTTP",
    "https": "TLS",
    "mysql": "TCP",
    "postgres": "TCP",
    "postgresql": "TCP",
    "redis": "TCP",
    "tcp": "TCP",
}

_Ports = tuple[PortRef, ...] | None


def build_authorization_policy(
    service: LatticeService, view: MeshView, decl: rule.Declarations | None = None
) -> dict[str, Any]:
    """ALLOW policy naming the principals the service itself declared as callers."""
    decl = decl or rule.declarations_of(service)
    trust = view.cluster.trust_domain
    groups: dict[_Ports, set[str]] = {}
    for peer in decl.callers:
        _add(groups, service, peer, principal(trust, peer.key))
    if decl.any_caller is not None:
        _add(groups, service, decl.any_caller, rule.ANY)
    spec: dict[str, Any] = {
        "action": "ALLOW",
        "selector": {"matchLabels": labels.pod_selector(service.name)},
    }
    rules = [_rule(groups[p], p) for p in sorted(groups, key=lambda p: (p is not None, p or ()))]
    if rules:
        spec["rules"] = rules
    return _object("AuthorizationPolicy", service, spec)


def build_peer_authentication(service: LatticeService) -> dict[str, Any]:
    """Mutual TLS required for every connection to the service's pods."""
    spec = {
        "selector": {"matchLabels": labels.pod_selector(service.name)},
        "mtls": {"mode": "STRICT"},
    }
    return _object("PeerAuthentication", service, spec)


def build_service_entry(external: LatticeExternalService) -> dict[str, Any]:
    """The external service's hosts as a mesh-external ServiceEntry."""
    endpoints = sorted(external.spec.parsed_endpoints().values(), key=lambda e: (e.host, e.port))
    static = external.spec.resolution == "static" and all(_is_ip(e.host) for e in endpoints)
    spec: dict[str, Any] = {
        "exportTo": _export_to(external),
        "location": "MESH_EXTERNAL",
        "ports": _entry_ports(endpoints),
        "resolution": "STATIC" if static else "DNS",
    }
    if static:
        spec["hosts"] = [f"{external.name}.{external.namespace}.external"]
        spec["addresses"] = sorted({e.host for e in endpoints})
        spec["endpoints"] = [{"address": a} for a in spec["addresses"]]
    else:
        spec["hosts"] = sorted({e.host for e in endpoints})
    obj = apiversions.header("ServiceEntry", external.name, external.namespace)
    obj["metadata"]["labels"] = labels.service_labels(external.name)
    obj["spec"] = spec
    return obj


def build_waypoint(namespace: str, name: str = "waypoint") -> dict[str, Any]:
    """A waypoint proxy for L7 policy in ``namespace`` (not used by the L4 rules above)."""
    obj = apiversions.header("Gateway", name, namespace)
    obj["metadata"]["labels"] = {**labels.service_labels(name), "istio.io/waypoint-for": "service"}
    obj["spec"] = {
        "gatewayClassName": "istio-waypoint",
        "listeners": [{"name": "mesh", "port": 15008, "protocol": "HBONE"}],
    }
    return obj


def _add(
    groups: dict[_Ports, set[str]], service: LatticeService, peer: rule.Peer, who: str
) -> None:
    ports = service_ports(service, peer.ports)
    if ports == []:
        return  # the narrowing matched no port: nothing is allowed (noted in the Cilium policy)
    key = None if ports is None else tuple(ports)
    groups.setdefault(key, set()).add(who)


def _rule(principals: set[str], ports: _Ports) -> dict[str, Any]:
    item: dict[str, Any] = {"from": [{"source": {"principals": sorted(principals)}}]}
    if ports is not None:
        item["to"] = [{"operation": {"ports": sorted({str(p.port) for p in ports}, key=int)}}]
    return item


def _object(kind: str, service: LatticeService, spec: dict[str, Any]) -> dict[str, Any]:
    obj = apiversions.header(kind, f"{service.name}-mesh", service.namespace)
    obj["metadata"]["labels"] = labels.service_labels(service.name)
    obj["spec"] = spec
    return obj


def _export_to(external: LatticeExternalService) -> list[str]:
    keys = rule.requester_keys(external)
    if rule.ANY in keys:
        return ["*"]
    return sorted({external.namespace} | {k.partition("/")[0] for k in keys})


def _entry_ports(endpoints: list[Endpoint]) -> list[dict[str, Any]]:
    seen: dict[int, dict[str, Any]] = {}  # a port number appears once in a ServiceEntry
    for endpoint in sorted(endpoints, key=lambda e: (e.port, e.scheme)):
        protocol = SCHEME_PROTOCOLS.get(endpoint.scheme, "TCP")
        name = f"{protocol.lower()}-{endpoint.port}"
        seen.setdefault(
            endpoint.port, {"name": name, "number": endpoint.port, "protocol": protocol}
        )
    return [seen[k] for k in sorted(seen)]


def _is_ip(host: str) -> bool:
    try:
        ipaddress.ip_address(host)
    except ValueError:
        return False
    return True
