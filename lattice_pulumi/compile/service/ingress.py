"""Gateway API ingress of a LatticeService: Gateway, routes, certificates, gateway policies.

Called by ``compile_service``; pure (no I/O). Two spec forms come out the same way:

- simple form (``hosts``/``paths``/``tls``): one ``HTTPRoute`` named ``<service>``;
- routes form: one route per entry, named ``<service>-<route>`` (``HTTPRoute``, ``GRPCRoute``
  or ``TCPRoute``).

Every route attaches to one ``Gateway`` named ``<service>-gateway`` in the service's
namespace: one listener per host (HTTPS 443 terminating with the route's TLS Secret, or
HTTP 80), and one TCP listener per ``TCPRoute`` on its service port. ``tls.mode: auto`` adds a
cert-manager ``Certificate`` whose Secret is ``<service>-tls`` (``<service>-<route>-tls``);
``manual`` uses ``tls.secretName``.

Under default-deny, two policies named ``<service>-allow-gateway`` let the gateway's pods
reach the service's pods on the target ports: a CiliumNetworkPolicy (pods labelled
``gateway.networking.k8s.io/gateway-name: <gateway>``, as Istio's automated deployment labels
them) and an Istio AuthorizationPolicy for the gateway's identity
``<trust-domain>/ns/<ns>/sa/<gateway>-<gatewayClass>`` (Istio names the generated Deployment,
Service and ServiceAccount ``<gateway>-<gatewayClass>``). Both select the service's pods by
``lattice.dev/service`` only, which Flagger keeps on its ``-primary`` pods.

Route ownership with Flagger: when ``deploy.strategy`` is ``canary`` or ``blue-green`` and the
ingress uses the simple form, Flagger (provider ``gatewayapi:v1``) creates and keeps updating
the ``HTTPRoute`` named after the service (same hosts and paths, backends ``<service>-primary``
and ``<service>-canary`` with weights), so ``build_ingress`` leaves it out
(``flagger_owns_http_route``). The Gateway, certificates and policies stay ours. Routes of the
routes form keep their own names and stay ours.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from lattice_pulumi.compile import apiversions, labels
from lattice_pulumi.compile.context import CompileContext
from lattice_pulumi.errors import CompileError, FieldPath
from lattice_pulumi.spec.service import LatticeService
from lattice_pulumi.spec.service_options import IngressSpec, RouteMatch, TlsSpec

__all__ = [
    "FLAGGER_STRATEGIES",
    "GATEWAY_NAME_LABEL",
    "ServicePort",
    "build_ingress",
    "flagger_owns_http_route",
    "gateway_class",
    "gateway_name",
    "gateway_principal",
    "resolve_port",
]

HBONE_PORT = 15008
GATEWAY_NAME_LABEL = "gateway.networking.k8s.io/gateway-name"
FLAGGER_STRATEGIES = ("canary", "blue-green")
_HTTP_PORT = 80
_HTTPS_PORT = 443


@dataclass(frozen=True)
class ServicePort:
    """A port of the service's Kubernetes Service: its name, number and container port."""

    name: str
    port: int
    target_port: int
    protocol: str


@dataclass(frozen=True)
class _Route:
    """One route of either spec form, normalised."""

    name: str
    kind: str
    hosts: tuple[str, ...]
    paths: tuple[RouteMatch, ...]
    port: ServicePort
    tls: TlsSpec | None
    secret: str | None
    path: FieldPath


def gateway_name(service: LatticeService) -> str:
    """Name of the service's Gateway."""
    return f"{service.name}-gateway"


def gateway_class(service: LatticeService, context: CompileContext) -> str:
    """The GatewayClass: ``ingress.gatewayClass`` or the cluster's default."""
    ingress = service.spec.ingress
    if ingress is not None and ingress.gateway_class:
        return ingress.gateway_class
    return context.cluster.gateway_class


def flagger_owns_http_route(service: LatticeService) -> bool:
    """True when Flagger generates the simple form's HTTPRoute (canary or blue-green)."""
    ingress = service.spec.ingress
    return (
        ingress is not None
        and not ingress.routes
        and service.spec.deploy.strategy in FLAGGER_STRATEGIES
    )


def resolve_port(service: LatticeService, ref: str | int | None, path: FieldPath) -> ServicePort:
    """The service port named or numbered ``ref``, or the first port when ``ref`` is None."""
    workload = service.spec.workload
    ports = workload.service.ports if workload.service else {}
    if not ports:
        raise CompileError("needs at least one service port", subject=_subject(service), path=path)
    for name, spec in ports.items():
        if ref is None or ref == name or ref == spec.port:
            return ServicePort(name, spec.port, spec.container_port, spec.protocol)
    raise CompileError(
        f"'{ref}' is not a service port (ports: {', '.join(ports)})",
        subject=_subject(service),
        path=path,
    )


def build_ingress(service: LatticeService, context: CompileContext) -> list[dict[str, Any]]:
    """Certificates, Gateway, routes and gateway policies; [] without ``spec.ingress``."""
    ingress = service.spec.ingress
    if ingress is None:
        return []
    routes = _normalise(service, ingress)
    listeners, secret_of = _listeners(service, routes)
    objects = [
        _certificate(service, r, [h for h in r.hosts if secret_of[h] == r.secret])
        for r in routes
        if r.tls is not None and r.tls.mode == "auto" and r.secret in secret_of.values()
    ]
    gateway = _meta("Gateway", gateway_name(service), service)
    gateway["spec"] = {"gatewayClassName": gateway_class(service, context), "listeners": listeners}
    objects.append(gateway)
    skip_http = flagger_owns_http_route(service)
    objects += [_route(service, r) for r in routes if not (skip_http and r.kind == "HTTPRoute")]
    ports = _target_ports(routes)
    objects.append(_cilium_policy(service, ports))
    objects.append(_authorization_policy(service, context, ports))
    return objects


def _normalise(service: LatticeService, ingress: IngressSpec) -> list[_Route]:
    base: FieldPath = ("spec", "ingress")
    name = service.name
    if not ingress.routes:
        port = resolve_port(service, ingress.port, (*base, "port"))
        secret = _secret_name(ingress.tls, f"{name}-tls")
        paths = tuple(ingress.paths)
        return [
            _Route(name, "HTTPRoute", tuple(ingress.hosts), paths, port, ingress.tls, secret, base)
        ]
    found = []
    for key, route in ingress.routes.items():
        path: FieldPath = (*base, "routes", key)
        port = resolve_port(service, route.port, (*path, "port"))
        secret = _secret_name(route.tls, f"{name}-{key}-tls")
        found.append(
            _Route(
                f"{name}-{key}",
                route.kind,
                tuple(route.hosts),
                tuple(route.paths),
                port,
                route.tls,
                secret,
                path,
            )
        )
    return found


def _secret_name(tls: TlsSpec | None, generated: str) -> str | None:
    if tls is None:
        return None
    return tls.secret_name if tls.mode == "manual" else generated


def _meta(kind: str, name: str, service: LatticeService) -> dict[str, Any]:
    obj = apiversions.header(kind, name, service.namespace)
    obj["metadata"]["labels"] = labels.service_labels(service.name)
    return obj


def _certificate(service: LatticeService, route: _Route, hosts: list[str]) -> dict[str, Any]:
    """The certificate of the hosts whose listener uses this route's Secret."""
    assert route.tls is not None and route.tls.issuer_ref is not None and route.secret
    issuer = route.tls.issuer_ref
    obj = _meta("Certificate", route.secret, service)
    obj["spec"] = {
        "secretName": route.secret,
        "dnsNames": hosts,
        "issuerRef": {"name": issuer.name, "kind": issuer.kind, "group": "cert-manager.io"},
    }
    return obj


def _tls_identity(tls: TlsSpec | None) -> tuple[str, ...]:
    """What a listener's TLS means: routes sharing a host must agree on it."""
    if tls is None:
        return ("none",)
    if tls.mode == "manual":
        return ("manual", tls.secret_name or "")
    issuer = tls.issuer_ref
    return ("auto", issuer.kind, issuer.name) if issuer else ("auto",)


def _listeners(
    service: LatticeService, routes: list[_Route]
) -> tuple[list[dict[str, Any]], dict[str, str | None]]:
    """Gateway listeners, and the TLS Secret each host's listener uses (the first route's)."""
    listeners: list[dict[str, Any]] = []
    first: dict[str, _Route] = {}
    by_tcp_port: dict[int, FieldPath] = {}
    for route in routes:
        if route.kind == "TCPRoute":
            _claim(service, by_tcp_port, route.port.port, route.path, "TCP port")
            listeners.append(_tcp_listener(route))
            continue
        for host in route.hosts:
            seen = first.setdefault(host, route)
            if seen is route:
                listeners.append(_host_listener(host, route.secret))
            elif _tls_identity(seen.tls) != _tls_identity(route.tls):
                raise CompileError(
                    f"host '{host}' is also served by {_where(seen.path)} with different TLS",
                    subject=_subject(service),
                    path=route.path,
                )
    return listeners, {host: route.secret for host, route in first.items()}


def _claim(
    service: LatticeService, seen: dict[int, FieldPath], port: int, path: FieldPath, what: str
) -> None:
    if port in seen:
        raise CompileError(
            f"{what} {port} is already used by {_where(seen[port])}",
            subject=_subject(service),
            path=path,
        )
    seen[port] = path


def _where(path: FieldPath) -> str:
    return ".".join(str(p) for p in path)


def _host_listener(host: str, secret: str | None) -> dict[str, Any]:
    slug = host.replace("*", "wildcard")
    listener: dict[str, Any] = {
        "name": f"{'https' if secret else 'http'}-{slug}",
        "hostname": host,
        "port": _HTTPS_PORT if secret else _HTTP_PORT,
        "protocol": "HTTPS" if secret else "HTTP",
    }
    if secret:
        listener["tls"] = {
            "mode": "Terminate",
            "certificateRefs": [{"kind": "Secret", "name": secret}],
        }
    listener["allowedRoutes"] = {"namespaces": {"from": "Same"}}
    return listener


def _tcp_listener(route: _Route) -> dict[str, Any]:
    return {
        "name": f"tcp-{route.name}",
        "port": route.port.port,
        "protocol": "TCP",
        "allowedRoutes": {"namespaces": {"from": "Same"}, "kinds": [{"kind": "TCPRoute"}]},
    }


def _route(service: LatticeService, route: _Route) -> dict[str, Any]:
    parent: dict[str, Any] = {"name": gateway_name(service)}
    backend = {"name": service.name, "port": route.port.port}
    spec: dict[str, Any] = {"parentRefs": [parent]}
    if route.kind == "TCPRoute":
        parent["sectionName"] = f"tcp-{route.name}"
        spec["rules"] = [{"backendRefs": [backend]}]
    elif route.kind == "GRPCRoute":
        spec["hostnames"] = list(route.hosts)
        spec["rules"] = [{"backendRefs": [backend]}]
    else:
        matches = [
            {"path": {"type": m.type, "value": m.path}} for m in route.paths or (RouteMatch(),)
        ]
        spec["hostnames"] = list(route.hosts)
        spec["rules"] = [{"matches": matches, "backendRefs": [backend]}]
    obj = _meta(route.kind, route.name, service)
    obj["spec"] = spec
    return obj


def _target_ports(routes: list[_Route]) -> list[tuple[int, str]]:
    """Distinct (container port, protocol) pairs the gateway sends traffic to, sorted."""
    return sorted({(r.port.target_port, r.port.protocol) for r in routes})


def _cilium_policy(service: LatticeService, ports: list[tuple[int, str]]) -> dict[str, Any]:
    obj = _meta("CiliumNetworkPolicy", f"{service.name}-allow-gateway", service)
    gateway_pods = {
        GATEWAY_NAME_LABEL: gateway_name(service),
        "k8s:io.kubernetes.pod.namespace": service.namespace,
    }
    obj["spec"] = {
        "endpointSelector": {"matchLabels": labels.pod_selector(service.name)},
        "ingress": [
            {
                "fromEndpoints": [{"matchLabels": gateway_pods}],
                # ambient mode: the gateway reaches enrolled pods over HBONE (15008)
                "toPorts": [
                    {
                        "ports": [
                            *({"port": str(port), "protocol": proto} for port, proto in ports),
                            {"port": str(HBONE_PORT), "protocol": "TCP"},
                        ]
                    }
                ],
            }
        ],
    }
    return obj


def gateway_principal(service: LatticeService, context: CompileContext) -> str:
    """SPIFFE-style identity of the gateway pods Istio deploys for the service's Gateway."""
    account = f"{gateway_name(service)}-{gateway_class(service, context)}"
    return f"{context.cluster.trust_domain}/ns/{service.namespace}/sa/{account}"


def _authorization_policy(
    service: LatticeService, context: CompileContext, ports: list[tuple[int, str]]
) -> dict[str, Any]:
    obj = _meta("AuthorizationPolicy", f"{service.name}-allow-gateway", service)
    obj["spec"] = {
        "selector": {"matchLabels": labels.pod_selector(service.name)},
        "action": "ALLOW",
        "rules": [
            {
                "from": [{"source": {"principals": [gateway_principal(service, context)]}}],
                "to": [{"operation": {"ports": sorted({str(port) for port, _ in ports})}}],
            }
        ],
    }
    return obj


def _subject(service: LatticeService) -> str:
    """How errors name the service (as ``compile_service`` does)."""
    return f"service {service.namespace}/{service.name}"
