"""An independent evaluator of generated Cilium and Istio objects (test-only).

It reads nothing but the manifests: given pods (namespace, labels, service account) it
decides whether a connection from one pod to another on a port would pass Cilium egress at
the caller, Cilium ingress at the callee and Istio authorization at the callee, following
the documented semantics of each kind. It does not import the mesh compiler, so it checks
the compiler rather than repeating it.

Semantics implemented (the subset the compiler emits, and a bit more):
* Cilium: an endpoint selected by a policy with ``enableDefaultDeny`` true for a direction
  (or, without the field, with rules in that direction) is default-deny there; the traffic
  passes when any rule of any selecting policy allows it. Namespaced policies' peer selectors
  are limited to the policy's namespace unless they name the namespace label. ``k8s:``
  prefixes match the Kubernetes label source. No ``toPorts`` means every port.
* Istio: DENY policies first (none expected), then no ALLOW policy means allow, else some
  ALLOW rule must match. Root-namespace policies apply mesh-wide. A rule ``{}`` matches all.
* Ambient mode: Cilium sees HBONE (15008) between the pods; Istio sees the target port.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

NS_LABEL = "io.kubernetes.pod.namespace"
ROOT_NAMESPACE = "istio-system"
HBONE = 15008


@dataclass(frozen=True)
class Pod:
    namespace: str
    labels: Mapping[str, str]
    service_account: str

    def cilium_labels(self) -> dict[str, str]:
        return {**self.labels, NS_LABEL: self.namespace}


@dataclass
class Cluster:
    """The generated objects, indexed by kind."""

    objects: list[dict[str, Any]]
    trust_domain: str = "cluster.local"
    ambient: bool = True
    by_kind: dict[str, list[dict[str, Any]]] = field(default_factory=dict)

    def __post_init__(self) -> None:
        for obj in self.objects:
            self.by_kind.setdefault(obj["kind"], []).append(obj)

    def allows(self, src: Pod, dst: Pod, port: int, protocol: str = "TCP") -> bool:
        wire = HBONE if self.ambient else port
        return (
            self.cilium_allows(src, dst, wire, protocol, "egress")
            and self.cilium_allows(src, dst, wire, protocol, "ingress")
            and self.istio_allows(src, dst, port)
        )

    def allows_external(self, src: Pod, host: str, port: int) -> bool:
        """Caller egress to an FQDN, and the host known to the caller's namespace."""
        ok = self._cilium_direction(src, "egress", lambda r, pol: _fqdn_match(r, host, port))
        entry = any(
            host in se["spec"].get("hosts", [])
            and _exported(se["spec"].get("exportTo"), se["metadata"]["namespace"], src.namespace)
            for se in self.by_kind.get("ServiceEntry", [])
        )
        return ok and entry

    def cilium_allows(self, src: Pod, dst: Pod, port: int, protocol: str, direction: str) -> bool:
        subject, peer = (src, dst) if direction == "egress" else (dst, src)
        field_name = "toEndpoints" if direction == "egress" else "fromEndpoints"

        def match(item: dict[str, Any], policy: dict[str, Any]) -> bool:
            scope = policy["metadata"].get("namespace")
            selectors = item.get(field_name)
            if selectors is None:
                return False
            hit = any(_peer_selects(s, peer, scope) for s in selectors)
            return hit and _ports_match(item.get("toPorts"), port, protocol)

        return self._cilium_direction(subject, direction, match)

    def _cilium_direction(self, subject: Pod, direction: str, match: Any) -> bool:
        selecting = [p for p in self._cilium_policies() if _subject_selected(p, subject)]
        deny = [p for p in selecting if _default_deny(p["spec"], direction)]
        if not deny:
            return True
        return any(match(item, p) for p in selecting for item in p["spec"].get(direction) or [])

    def _cilium_policies(self) -> list[dict[str, Any]]:
        return self.by_kind.get("CiliumNetworkPolicy", []) + self.by_kind.get(
            "CiliumClusterwideNetworkPolicy", []
        )

    def istio_allows(self, src: Pod, dst: Pod, port: int) -> bool:
        applying = [p for p in self.by_kind.get("AuthorizationPolicy", []) if _applies(p, dst)]
        source = f"{self.trust_domain}/ns/{src.namespace}/sa/{src.service_account}"
        by_action: dict[str, list[dict[str, Any]]] = {}
        for policy in applying:
            by_action.setdefault(policy["spec"].get("action", "ALLOW"), []).append(policy)
        if any(
            _rule_matches(r, source, port) for p in by_action.get("DENY", []) for r in _rules(p)
        ):
            return False
        allows = by_action.get("ALLOW", [])
        if not allows:
            return True
        return any(_rule_matches(r, source, port) for p in allows for r in _rules(p))


def _default_deny(spec: dict[str, Any], direction: str) -> bool:
    flags = spec.get("enableDefaultDeny")
    if flags is not None and direction in flags:
        return bool(flags[direction])
    return bool(spec.get(direction))


def _subject_selected(policy: dict[str, Any], pod: Pod) -> bool:
    namespace = policy["metadata"].get("namespace")
    if namespace is not None and namespace != pod.namespace:
        return False
    return _selects(policy["spec"].get("endpointSelector", {}), pod.cilium_labels())


def _peer_selects(selector: dict[str, Any], peer: Pod, scope: str | None) -> bool:
    names_ns = any(_plain(k) == NS_LABEL for k in selector.get("matchLabels", {})) or any(
        _plain(e["key"]) == NS_LABEL for e in selector.get("matchExpressions", [])
    )
    if scope is not None and not names_ns and peer.namespace != scope:
        return False
    return _selects(selector, peer.cilium_labels())


def _plain(key: str) -> str:
    return key.removeprefix("k8s:")


def _selects(selector: dict[str, Any], pod_labels: Mapping[str, str]) -> bool:
    for key, value in selector.get("matchLabels", {}).items():
        if pod_labels.get(_plain(key)) != value:
            return False
    for expr in selector.get("matchExpressions", []):
        key, op, values = _plain(expr["key"]), expr["operator"], expr.get("values", [])
        present = key in pod_labels
        if (
            (op == "In" and pod_labels.get(key) not in values)
            or (op == "NotIn" and pod_labels.get(key) in values)
            or (op == "Exists" and not present)
            or (op == "DoesNotExist" and present)
        ):
            return False
    return True


def _ports_match(to_ports: list[dict[str, Any]] | None, port: int, protocol: str) -> bool:
    if not to_ports:
        return True
    for item in to_ports:
        for spec in item.get("ports", []):
            proto = spec.get("protocol", "ANY")
            if int(spec["port"]) == port and proto in ("ANY", protocol):
                return True
    return False


def _fqdn_match(item: dict[str, Any], host: str, port: int) -> bool:
    names = {f.get("matchName") for f in item.get("toFQDNs", [])}
    return host in names and _ports_match(item.get("toPorts"), port, "TCP")


def _exported(export_to: list[str] | None, own: str, namespace: str) -> bool:
    if not export_to:
        return True
    return "*" in export_to or namespace in export_to or ("." in export_to and own == namespace)


def _applies(policy: dict[str, Any], pod: Pod) -> bool:
    namespace = policy["metadata"]["namespace"]
    if namespace not in (ROOT_NAMESPACE, pod.namespace):
        return False
    return _selects(policy["spec"].get("selector", {}), pod.labels)


def _rules(policy: dict[str, Any]) -> list[dict[str, Any]]:
    return list(policy["spec"].get("rules") or [])


def _rule_matches(item: dict[str, Any], principal: str, port: int) -> bool:
    sources = item.get("from")
    if sources is not None and not any(_source_matches(s["source"], principal) for s in sources):
        return False
    targets = item.get("to")
    return targets is None or any(
        str(port) in t["operation"].get("ports", [str(port)]) for t in targets
    )


def _source_matches(source: dict[str, Any], principal: str) -> bool:
    principals: Iterable[str] = source.get("principals", ["*"])
    return any(
        p == "*" or p == principal or (p.endswith("*") and principal.startswith(p[:-1]))
        for p in principals
    )
