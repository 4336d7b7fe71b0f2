"""An authorizer wrapper that notes whether a compile asked anything.

A service whose compile never consulted Cedar cannot change when a CedarPolicy does, so
the operator only recompiles the services whose last compile went through here with
``asked`` set. Every decision is the wrapped authorizer's.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from lattice_pulumi.policy import Authorizer, ClusterContext, Decision, Request

__all__ = ["RecordingAuthorizer"]


class RecordingAuthorizer:
    """Delegates every question to ``inner`` and sets ``asked`` once one is put."""

    def __init__(self, inner: Authorizer) -> None:
        self.inner = inner
        self.asked = False

    def authorize(self, request: Request) -> Decision:
        self.asked = True
        return self.inner.authorize(request)

    def authorize_batch(self, batch: Sequence[Request]) -> list[Decision]:
        self.asked = True
        return self.inner.authorize_batch(batch)

    def require(self, request: Request) -> Decision:
        self.asked = True
        return self.inner.require(request)

    def can_access_secret(
        self, service_ns: str, service_name: str, provider: str, path: str
    ) -> Decision:
        self.asked = True
        return self.inner.can_access_secret(service_ns, service_name, provider, path)

    def can_override_security(self, service_ns: str, service_name: str, override: str) -> Decision:
        self.asked = True
        return self.inner.can_override_security(service_ns, service_name, override)

    def can_access_volume(
        self,
        service_ns: str,
        service_name: str,
        volume_ns: str,
        volume_id: str,
        owner: str,
        allowed_consumers: Sequence[str] = (),
    ) -> Decision:
        self.asked = True
        return self.inner.can_access_volume(
            service_ns, service_name, volume_ns, volume_id, owner, allowed_consumers
        )

    def can_access_cluster(
        self,
        user: str,
        groups: Sequence[str],
        cluster: str,
        labels: Mapping[str, str],
        verb: str,
        *,
        namespace: str = "",
        kind: str = "",
        context: ClusterContext | None = None,
    ) -> Decision:
        self.asked = True
        return self.inner.can_access_cluster(
            user, groups, cluster, labels, verb, namespace=namespace, kind=kind, context=context
        )
