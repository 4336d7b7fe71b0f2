"""Who may call whom: the bilateral rule, from the declarations of both sides (pure).

Traffic from A to B is allowed only when A declares B as ``outbound`` (or ``both``) AND B
declares A as ``inbound`` (or ``both``), or B accepts any caller (``id: "*"`` on an inbound
service resource). A service resource names its peer by ``id`` when given, else by its key;
``namespace:`` on the resource puts the peer in that namespace, else it is the declaring
service's own. An external service is reachable only by the requesters it allows
(``allowedRequesters``: ``name`` in the external service's namespace, ``ns/name`` or ``*``).

``Declarations`` is the one reading of a spec every other mesh module uses: the compilers
(``cilium``, ``istio``), the graph and the report.
"""

from __future__ import annotations

from dataclasses import dataclass

from lattice_pulumi.compile.context import service_key
from lattice_pulumi.spec.external import LatticeExternalService
from lattice_pulumi.spec.service import LatticeService
from lattice_pulumi.spec.service_resources import ExternalServiceResource, ServiceResource

__all__ = [
    "ANY",
    "Declarations",
    "Peer",
    "declarations_of",
    "external_allows",
    "is_allowed",
    "peer_key",
    "requester_keys",
]

ANY = "*"


@dataclass(frozen=True, order=True)
class Peer:
    """One declared peer: its key (``ns/name``), the declaring resource and narrowed ports.

    ``ports`` holds port names of the callee; empty means every port.
    """

    key: str
    resource: str
    ports: tuple[str, ...] = ()


@dataclass(frozen=True)
class Declarations:
    """What one service declares about the mesh, each list sorted by peer key."""

    key: str
    callees: tuple[Peer, ...] = ()
    callers: tuple[Peer, ...] = ()
    any_caller: Peer | None = None
    externals: tuple[Peer, ...] = ()

    def callee_keys(self) -> frozenset[str]:
        return frozenset(p.key for p in self.callees)

    def caller_keys(self) -> frozenset[str]:
        return frozenset(p.key for p in self.callers)

    def external_keys(self) -> frozenset[str]:
        return frozenset(p.key for p in self.externals)


def peer_key(resource: str, decl: ServiceResource | ExternalServiceResource, own_ns: str) -> str:
    """``ns/name`` of the peer a service or external-service resource names."""
    return service_key(decl.namespace or own_ns, decl.id or resource)


def declarations_of(service: LatticeService) -> Declarations:
    """Read the mesh-relevant resources of ``service`` (other resource types are ignored)."""
    callees: dict[str, Peer] = {}
    callers: dict[str, Peer] = {}
    externals: dict[str, Peer] = {}
    any_caller: Peer | None = None
    for resource, decl in sorted(service.spec.workload.resources.items()):
        if isinstance(decl, ExternalServiceResource):
            key = peer_key(resource, decl, service.namespace)
            _merge(externals, Peer(key, resource, tuple(decl.params.ports)))
        elif isinstance(decl, ServiceResource):
            ports = tuple(decl.params.ports)
            if decl.id == ANY:
                any_caller = _merged(any_caller, Peer(ANY, resource, ports))
                continue
            key = peer_key(resource, decl, service.namespace)
            if decl.direction in ("outbound", "both"):
                _merge(callees, Peer(key, resource, ports))
            if decl.direction in ("inbound", "both"):
                _merge(callers, Peer(key, resource, ports))
    return Declarations(
        key=service_key(service.namespace, service.name),
        callees=_sorted(callees),
        callers=_sorted(callers),
        any_caller=any_caller,
        externals=_sorted(externals),
    )


def is_allowed(caller: Declarations, callee: Declarations) -> bool:
    """The rule for two services: the caller says outbound, the callee says inbound (or *)."""
    if callee.key not in caller.callee_keys():
        return False
    return callee.any_caller is not None or caller.key in callee.caller_keys()


def requester_keys(external: LatticeExternalService) -> frozenset[str]:
    """The external service's allowed requesters as keys (``*`` stays ``*``)."""
    keys = set()
    for entry in external.spec.allowed_requesters:
        if entry == ANY:
            keys.add(ANY)
        elif "/" in entry:
            keys.add(entry)
        else:
            keys.add(service_key(external.namespace, entry))
    return frozenset(keys)


def external_allows(external: LatticeExternalService, caller: str) -> bool:
    """Whether the external service lets the service with key ``caller`` call it."""
    keys = requester_keys(external)
    return ANY in keys or caller in keys


def _merged(old: Peer | None, new: Peer) -> Peer:
    """Two resources naming one peer: the union of their ports (empty = every port)."""
    if old is None:
        return new
    ports = () if not old.ports or not new.ports else tuple(sorted({*old.ports, *new.ports}))
    return Peer(old.key, min(old.resource, new.resource), ports)


def _merge(into: dict[str, Peer], peer: Peer) -> None:
    into[peer.key] = _merged(into.get(peer.key), peer)


def _sorted(peers: dict[str, Peer]) -> tuple[Peer, ...]:
    return tuple(peers[k] for k in sorted(peers))
