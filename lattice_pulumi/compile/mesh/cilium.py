"""CiliumNetworkPolicy of one service: ingress from its declared callers, egress to its callees.

Each side enforces its own half: the ingress rules come only from the service's ``inbound``
declarations (and ``id: "*"``), the egress rules only from its ``outbound`` ones. The only
facts taken from other specs are the callees' target ports and the external services'
endpoints and allowed requesters (an external service has no pods, so the caller's egress
carries its half too).

Beyond the declared peers the policy keeps the data plane working:

* DNS to kube-dns (UDP/TCP 53) with an L7 ``dns`` rule, so ``toFQDNs`` learns addresses.
* Ambient mode (default): ztunnel carries mesh traffic as HBONE to the callee's pod on 15008,
  so 15008 is allowed next to the target ports on both sides (Cilium cannot see the inner
  port; Istio's AuthorizationPolicy restricts it). Kubelet probes arrive SNAT-ed from
  169.254.7.127, which is allowed in.
* Sidecar mode: the proxy needs istiod (15012) for configuration and certificates.

A callee the view does not know gets egress to its identity on any port (noted in
``spec.description``); an unknown external service gets nothing, since its hosts are unknown.
"""

from __future__ import annotations

import ipaddress
from typing import Any

from lattice_pulumi.compile import apiversions, labels
from lattice_pulumi.compile.mesh import rule
from lattice_pulumi.compile.mesh.view import (
    HBONE_PORT,
    NAMESPACE_LABEL,
    MeshMode,
    MeshView,
    PortRef,
    endpoint_identity,
    service_ports,
    split_key,
)
from lattice_pulumi.spec.service import LatticeService

__all__ = [
    "AMBIENT_PROBE_CIDR",
    "ANY_NAMESPACE",
    "build_cilium_policy",
    "dns_egress_rule",
    "istiod_egress_rule",
    "policy_name",
]

AMBIENT_PROBE_CIDR = "169.254.7.127/32"
ANY_NAMESPACE: dict[str, Any] = {
    "matchExpressions": [{"key": NAMESPACE_LABEL, "operator": "Exists"}]
}

Selector = dict[str, Any]
Ports = tuple[PortRef, ...] | None  # None: every port


def policy_name(service_name: str) -> str:
    return f"{service_name}-mesh"


def build_cilium_policy(
    service: LatticeService, view: MeshView, decl: rule.Declarations | None = None
) -> dict[str, Any]:
    """The service's CiliumNetworkPolicy (pure; ``view`` supplies callee ports and endpoints)."""
    decl = decl or rule.declarations_of(service)
    notes: list[str] = []
    ingress = _ingress_rules(service, decl, view.mode, notes)
    egress = _egress_rules(decl, view, notes)
    mode = view.mode.value
    description = f"Lattice mesh policy of {decl.key} ({mode} mode)."
    if notes:
        description += " " + " ".join(sorted(notes))
    spec: dict[str, Any] = {
        "description": description,
        "endpointSelector": {"matchLabels": labels.pod_selector(service.name)},
        "enableDefaultDeny": {"egress": True, "ingress": True},
        "egress": egress,
    }
    if ingress:
        spec["ingress"] = ingress
    obj = apiversions.header("CiliumNetworkPolicy", policy_name(service.name), service.namespace)
    obj["metadata"]["labels"] = labels.service_labels(service.name)
    obj["spec"] = spec
    return obj


def dns_egress_rule() -> dict[str, Any]:
    """Egress to kube-dns through Cilium's DNS proxy (needed by every ``toFQDNs`` rule)."""
    kube_dns = {NAMESPACE_LABEL: "kube-system", "k8s:k8s-app": "kube-dns"}
    return {
        "toEndpoints": [{"matchLabels": kube_dns}],
        "toPorts": [
            {
                "ports": [{"port": "53", "protocol": "UDP"}, {"port": "53", "protocol": "TCP"}],
                "rules": {"dns": [{"matchPattern": "*"}]},
            }
        ],
    }


def istiod_egress_rule() -> dict[str, Any]:
    """Sidecar mode: the proxy fetches configuration and certificates from istiod."""
    istiod = {NAMESPACE_LABEL: "istio-system", "k8s:app": "istiod"}
    return {"toEndpoints": [{"matchLabels": istiod}], "toPorts": _to_ports((PortRef(15012),))}


def _ingress_rules(
    service: LatticeService, decl: rule.Declarations, mode: MeshMode, notes: list[str]
) -> list[dict[str, Any]]:
    peers: list[tuple[Selector, Ports]] = []
    for peer in decl.callers:
        ports = _peer_ports(service, peer, mode, notes)
        if ports != ():
            peers.append(({"matchLabels": endpoint_identity(peer.key)}, ports))
    found = _grouped(peers, "fromEndpoints")
    if decl.any_caller is not None:
        ports = _peer_ports(service, decl.any_caller, mode, notes)
        if ports != ():
            found += _grouped([(ANY_NAMESPACE, ports)], "fromEndpoints")
    if mode is MeshMode.AMBIENT:
        found.append({"fromCIDR": [AMBIENT_PROBE_CIDR]})
    return found


def _egress_rules(
    decl: rule.Declarations, view: MeshView, notes: list[str]
) -> list[dict[str, Any]]:
    peers: list[tuple[Selector, Ports]] = []
    for peer in decl.callees:
        callee = view.services.get(peer.key)
        if callee is None:
            notes.append(f"Callee {peer.key} is unknown here: egress to it on any port.")
            peers.append(({"matchLabels": endpoint_identity(peer.key)}, None))
            continue
        ports = _peer_ports(callee, peer, view.mode, notes)
        if ports != ():
            peers.append(({"matchLabels": endpoint_identity(peer.key)}, ports))
    found = [dns_egress_rule(), *_grouped(peers, "toEndpoints")]
    found += _external_rules(decl, view, notes)
    if view.mode is MeshMode.SIDECAR:
        found.append(istiod_egress_rule())
    return found


def _external_rules(
    decl: rule.Declarations, view: MeshView, notes: list[str]
) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = []
    for peer in decl.externals:
        external = view.externals.get(peer.key)
        if external is None:
            notes.append(f"External service {peer.key} is unknown here: no egress to it.")
            continue
        if not rule.external_allows(external, decl.key):
            notes.append(f"External service {peer.key} does not allow {decl.key}.")
            continue
        for name, endpoint in sorted(external.spec.parsed_endpoints().items()):
            if peer.ports and name not in peer.ports:
                continue
            found.append(
                {**_destination(endpoint.host), "toPorts": _to_ports((PortRef(endpoint.port),))}
            )
    return _unique(found)


def _destination(host: str) -> dict[str, Any]:
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        return {"toFQDNs": [{"matchName": host}]}
    return {"toCIDR": [f"{address}/{address.max_prefixlen}"]}


def _peer_ports(
    service: LatticeService, peer: rule.Peer, mode: MeshMode, notes: list[str]
) -> Ports:
    """Target ports of ``service`` reachable by ``peer``: None = any, () = none."""
    ports = service_ports(service, peer.ports)
    if ports is None:
        return None
    if not ports:
        namespace, name = split_key(peer.key) if peer.key != rule.ANY else ("", rule.ANY)
        notes.append(
            f"Ports {', '.join(peer.ports)} of resource {peer.resource} match no port of "
            f"{service.namespace}/{service.name}: nothing allowed for {namespace}/{name}."
        )
        return ()
    if mode is MeshMode.AMBIENT:
        ports.append(PortRef(HBONE_PORT))
    return tuple(sorted(set(ports)))


def _grouped(peers: list[tuple[Selector, Ports]], field: str) -> list[dict[str, Any]]:
    """One rule per distinct port set, selectors sorted, rules sorted by ports."""
    groups: dict[Ports, list[Selector]] = {}
    for selector, ports in peers:
        groups.setdefault(ports, []).append(selector)
    found = []
    for ports in sorted(groups, key=lambda p: (p is not None, p or ())):
        item: dict[str, Any] = {field: sorted(groups[ports], key=_selector_key)}
        if ports is not None:
            item["toPorts"] = _to_ports(ports)
        found.append(item)
    return found


def _to_ports(ports: tuple[PortRef, ...]) -> list[dict[str, Any]]:
    return [{"ports": [{"port": str(p.port), "protocol": p.protocol} for p in ports]}]


def _selector_key(selector: Selector) -> tuple[tuple[str, str], ...]:
    return tuple(sorted(selector.get("matchLabels", {}).items()))


def _unique(rules: list[dict[str, Any]]) -> list[dict[str, Any]]:
    seen: dict[str, dict[str, Any]] = {}
    for item in rules:
        seen.setdefault(repr(sorted(item.items())), item)
    return [seen[k] for k in sorted(seen)]
