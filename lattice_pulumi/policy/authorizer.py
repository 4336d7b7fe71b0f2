"""The authorizer: one object answering every lattice authorization question with Cedar.

The service compiler, the cluster API proxy and the operator share a ``CedarAuthorizer``
behind the ``Authorizer`` protocol. Its state (merged policy set plus where each policy came
from) is immutable and replaced as a whole by ``reload``: a new state is built beside the old
one and a single attribute assignment swaps it in, so concurrent decisions see either the
old or the new set, never a mix. With no policies everything is denied except what the
built-in volume rules allow (an owner using its own volume).

Decisions are cached per state: a decision is a pure function of the policy set and the
request (principal, action, resource, context and the entity documents), so the cache key
is exactly that and the cache is dropped with the state it belongs to on reload.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Protocol

import cedarpy

from lattice_pulumi.errors import PolicyDenied
from lattice_pulumi.policy import decision as cedar_decision
from lattice_pulumi.policy import policyset, requests
from lattice_pulumi.policy import schema as cedar_schema
from lattice_pulumi.policy.decision import Decision
from lattice_pulumi.policy.requests import ClusterContext, EntityDoc, Request
from lattice_pulumi.policy.sources import PolicySource

__all__ = ["CACHE_SIZE", "Authorizer", "CedarAuthorizer"]


class Authorizer(Protocol):
    """What compilers, the proxy and the operator call; ``CedarAuthorizer`` implements it."""

    def authorize(self, request: Request) -> Decision: ...

    def authorize_batch(self, batch: Sequence[Request]) -> list[Decision]: ...

    def require(self, request: Request) -> Decision: ...

    def can_access_secret(
        self, service_ns: str, service_name: str, provider: str, path: str
    ) -> Decision: ...

    def can_override_security(
        self, service_ns: str, service_name: str, override: str
    ) -> Decision: ...

    def can_access_volume(
        self,
        service_ns: str,
        service_name: str,
        volume_ns: str,
        volume_id: str,
        owner: str,
        allowed_consumers: Sequence[str] = (),
    ) -> Decision: ...

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
    ) -> Decision: ...


CACHE_SIZE = 65_536

_CacheKey = tuple[tuple[str, str], str, tuple[str, str], str, tuple[str, ...]]


@dataclass(frozen=True)
class _State:
    """One policy set and the decisions made with it (the cache only ever grows or clears)."""

    built: policyset.BuiltPolicySet
    cache: dict[_CacheKey, Decision] = field(default_factory=dict)


def _cache_key(request: Request) -> _CacheKey:
    return request.cache_key


class CedarAuthorizer:
    """Default-deny authorization over validated CedarPolicy sources."""

    def __init__(
        self, sources: Iterable[PolicySource] = (), *, cache_size: int = CACHE_SIZE
    ) -> None:
        """Load ``sources``; ``cache_size`` bounds the decision cache (0 turns it off)."""
        self._schema = cedar_schema.load_schema()
        self._cache_size = cache_size
        self._state = _State(policyset.build_policy_set(sources))

    def reload(self, sources: Iterable[PolicySource]) -> policyset.LoadReport:
        """Replace the whole policy set atomically; bad sources are reported and skipped."""
        state = _State(policyset.build_policy_set(sources))
        self._state = state
        return state.built.report

    @property
    def report(self) -> policyset.LoadReport:
        """What the current policy set was built from."""
        return self._state.built.report

    @property
    def policies(self) -> Mapping[str, policyset.PolicyInfo]:
        """Every policy in the current set by id (built-ins first, then in source order)."""
        return self._state.built.policies

    # ---- generic requests ----------------------------------------------------------------

    def authorize(self, request: Request) -> Decision:
        """Decide one request."""
        return self.authorize_batch([request])[0]

    def authorize_batch(self, batch: Sequence[Request]) -> list[Decision]:
        """Decide many requests with as few Cedar calls as their entities allow."""
        state = self._state
        keys = [_cache_key(r) for r in batch]
        decisions = [state.cache.get(key) for key in keys]
        missing = [i for i, d in enumerate(decisions) if d is None]
        if missing:
            if len(state.cache) + len(missing) > self._cache_size:
                state.cache.clear()
            pending = [batch[i] for i in missing]
            for indexes, entities in _group_by_entities(pending):
                results = self._evaluate(state.built, pending, indexes, entities)
                for index, result in zip(indexes, results, strict=True):
                    decisions[missing[index]] = result
                    if self._cache_size:
                        state.cache[keys[missing[index]]] = result
        return [d for d in decisions if d is not None]

    def _evaluate(
        self,
        built: policyset.BuiltPolicySet,
        batch: Sequence[Request],
        indexes: list[int],
        entities: str,
    ) -> list[Decision]:
        cedar_requests = [batch[i].cedar_request() for i in indexes]
        try:
            results = cedarpy.is_authorized_batch(
                cedar_requests,
                built.for_action(batch[indexes[0]].action),
                entities,
                schema=self._schema,
            )
        except ValueError as exc:  # entities that do not fit the schema
            return [Decision(False, f"invalid request: {exc}")] * len(indexes)
        return [cedar_decision.decide(r, built.policies) for r in results]

    def require(self, request: Request) -> Decision:
        """Decide ``request``; raise ``PolicyDenied`` naming the missing permit when denied."""
        decision = self.authorize(request)
        if not decision.allowed:
            raise PolicyDenied(requests.denial_message(request, decision.reason))
        return decision

    @staticmethod
    def suggest_permit(request: Request) -> str:
        """The exact Cedar permit that would allow ``request`` (for error messages)."""
        return requests.format_permit(request)

    # ---- the four paths ------------------------------------------------------------------

    def can_access_secret(
        self, service_ns: str, service_name: str, provider: str, path: str
    ) -> Decision:
        """May a service read a secret path of a provider?"""
        return self.authorize(requests.secret_access(service_ns, service_name, provider, path))

    def can_override_security(self, service_ns: str, service_name: str, override: str) -> Decision:
        """May a service use a security override ("privileged", "capability:NET_ADMIN", ...)?"""
        return self.authorize(requests.security_override(service_ns, service_name, override))

    def can_access_volume(
        self,
        service_ns: str,
        service_name: str,
        volume_ns: str,
        volume_id: str,
        owner: str,
        allowed_consumers: Sequence[str] = (),
    ) -> Decision:
        """May a service use a shared volume (needs a permit and the owner's consent)?"""
        return self.authorize(
            requests.volume_access(
                service_ns, service_name, volume_ns, volume_id, owner, allowed_consumers
            )
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
        """May a user or service account do ``verb`` in a cluster (through the proxy)?"""
        return self.authorize(
            requests.cluster_access(
                user,
                groups,
                cluster,
                labels,
                verb,
                namespace=namespace,
                kind=kind,
                context=context,
            )
        )


def _group_by_entities(batch: Sequence[Request]) -> list[tuple[list[int], str]]:
    """Split a batch into groups of one action whose entities agree (one uid, one document).

    Each group is one Cedar call over the policies of its action. Requests usually share
    entities (same service, same cluster); two requests that describe the same uid
    differently (a user with other groups) go to different calls.
    """
    groups: list[tuple[list[int], dict[str, EntityDoc]]] = []
    for index, request in enumerate(batch):
        placed = False
        for indexes, docs in groups:
            if batch[indexes[0]].action == request.action and all(
                docs.get(e.uid, e) == e for e in request.entities
            ):
                indexes.append(index)
                docs.update((e.uid, e) for e in request.entities)
                placed = True
                break
        if not placed:
            groups.append(([index], {e.uid: e for e in request.entities}))
    return [
        (indexes, "[" + ",".join(doc.json for doc in docs.values()) + "]")
        for indexes, docs in groups
    ]
