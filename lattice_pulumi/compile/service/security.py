"""Pod Security "restricted" by default; each relaxation needs a Cedar permit.

``required_overrides`` lists every override a service asks for (``privileged``,
``capability:NET_ADMIN``, ``runAsRoot``, ``privilegeEscalation``, ``hostNetwork``,
``shareProcessNamespace``, ``seccomp:Unconfined``, ``apparmor:Unconfined``,
``capabilities:keep`` (not dropping ALL), ``sysctl:<name>`` outside the safe set);
``authorize_overrides`` checks them all and fails with one error naming every missing permit.
The builders then only translate the spec: an override that got here was permitted.
"""

from __future__ import annotations

from typing import Any

from lattice_pulumi.compile.context import CompileContext
from lattice_pulumi.errors import PolicyDenied
from lattice_pulumi.policy import denial_message
from lattice_pulumi.policy.requests import security_override
from lattice_pulumi.spec.service import LatticeService
from lattice_pulumi.spec.service_containers import Container, Security

__all__ = [
    "SAFE_SYSCTLS",
    "authorize_overrides",
    "container_security_context",
    "pod_security_context",
    "required_overrides",
]

# Kubernetes' safe sysctls (namespaced, allowed by the restricted profile).
SAFE_SYSCTLS = frozenset(
    {
        "kernel.shm_rmid_forced",
        "net.ipv4.ip_local_port_range",
        "net.ipv4.ip_unprivileged_port_start",
        "net.ipv4.tcp_syncookies",
        "net.ipv4.ping_group_range",
        "net.ipv4.ip_local_reserved_ports",
        "net.ipv4.tcp_keepalive_time",
        "net.ipv4.tcp_fin_timeout",
        "net.ipv4.tcp_keepalive_intvl",
        "net.ipv4.tcp_keepalive_probes",
    }
)


def _container_overrides(security: Security | None) -> list[str]:
    if security is None:
        return []
    found = []
    if security.privileged:
        found.append("privileged")
    found += [f"capability:{cap}" for cap in security.capabilities]
    if security.drop_capabilities is not None and "ALL" not in security.drop_capabilities:
        found.append("capabilities:keep")
    if security.run_as_user == 0 or security.run_as_non_root is False:
        found.append("runAsRoot")
    if security.allow_privilege_escalation:
        found.append("privilegeEscalation")
    if security.seccomp_profile == "Unconfined":
        found.append("seccomp:Unconfined")
    if security.apparmor_profile == "Unconfined":
        found.append("apparmor:Unconfined")
    return found


def required_overrides(service: LatticeService) -> list[str]:
    """Every override the service needs, sorted, without repeats."""
    spec = service.spec
    found: set[str] = set()
    for _, _, container in spec.iter_containers():
        found.update(_container_overrides(container.security))
    if spec.host_network:
        found.add("hostNetwork")
    if spec.share_process_namespace:
        found.add("shareProcessNamespace")
    found.update(f"sysctl:{name}" for name in spec.sysctls if name not in SAFE_SYSCTLS)
    return sorted(found)


def authorize_overrides(service: LatticeService, context: CompileContext) -> None:
    denied = []
    for override in required_overrides(service):
        request = security_override(service.namespace, service.name, override)
        decision = context.authorizer.authorize(request)
        if not decision.allowed:
            denied.append(denial_message(request, decision.reason))
    if denied:
        raise PolicyDenied("\n".join(denied))


def container_security_context(container: Container) -> dict[str, Any]:
    """The restricted profile, relaxed field by field where the spec asks (and was allowed)."""
    sec = container.security or Security()
    root = sec.run_as_user == 0 or sec.run_as_non_root is False
    context: dict[str, Any] = {
        "allowPrivilegeEscalation": bool(sec.allow_privilege_escalation or sec.privileged),
        "capabilities": {
            "drop": sec.drop_capabilities if sec.drop_capabilities is not None else ["ALL"]
        },
        "privileged": bool(sec.privileged),
        "readOnlyRootFilesystem": sec.read_only_root_filesystem is not False,
        "runAsNonRoot": not root,
    }
    if sec.capabilities:
        context["capabilities"]["add"] = list(sec.capabilities)
    if sec.run_as_user is not None:
        context["runAsUser"] = sec.run_as_user
    if sec.run_as_group is not None:
        context["runAsGroup"] = sec.run_as_group
    if sec.seccomp_profile is not None:
        context["seccompProfile"] = _profile(sec.seccomp_profile)
    if sec.apparmor_profile is not None:
        context["appArmorProfile"] = _profile(sec.apparmor_profile)
    return context


def _profile(value: str) -> dict[str, str]:
    if value.startswith("Localhost/"):
        return {"type": "Localhost", "localhostProfile": value.removeprefix("Localhost/")}
    return {"type": value}


def pod_security_context(service: LatticeService) -> dict[str, Any]:
    spec = service.spec
    root = any(
        c.security is not None
        and (c.security.run_as_user == 0 or c.security.run_as_non_root is False)
        for _, _, c in spec.iter_containers()
    )
    context: dict[str, Any] = {
        "runAsNonRoot": not root,
        "seccompProfile": {"type": "RuntimeDefault"},
        "fsGroup": 65532,
        "fsGroupChangePolicy": "OnRootMismatch",
    }
    if not root:
        context["runAsUser"] = 65532
        context["runAsGroup"] = 65532
    if spec.sysctls:
        context["sysctls"] = [{"name": k, "value": v} for k, v in sorted(spec.sysctls.items())]
    return context
