"""What the operator knows about the cluster: every Lattice object, and who depends on whom.

``ClusterState`` holds the latest body of every LatticeService, the last *valid* model of
each (the graph keeps compiling peers against what is applied while a spec is broken),
the external services, the CedarPolicies (loaded into one shared authorizer) and the
SecretProviders. Each ``observe_*`` / ``forget_*`` returns the keys of the services that
must be compiled again because of that change, besides the changed service itself:

* a service: the services whose mesh objects the ``ServiceGraph`` update changed (a
  one-sided declaration becoming two-sided changes both sides);
* a CedarPolicy: the services whose last compile asked the authorizer anything;
* a SecretProvider: the services that name it in a secret resource.

A watch event that changes nothing the compiler reads (our own status writes: same uid,
generation, labels and annotations) only refreshes the stored body; it is not parsed
again. ``note_taken`` records the generation a reconcile started from, and
``wants_converge`` says whether a service's latest body is newer than that, so the
service itself is queued once per change, not once per event.

It does no I/O; the reconciler reads it under the event loop (no locking needed).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from lattice_pulumi.compile.context import ClusterInfo, CompileContext, service_key
from lattice_pulumi.compile.mesh.graph import ServiceGraph
from lattice_pulumi.errors import LatticeError
from lattice_pulumi.operator.recording import RecordingAuthorizer
from lattice_pulumi.operator.specs import model_from_body
from lattice_pulumi.policy import CedarAuthorizer, LoadReport
from lattice_pulumi.policy.sources import PolicySource, source_from_policy
from lattice_pulumi.spec.external import LatticeExternalService
from lattice_pulumi.spec.policy import CedarPolicy
from lattice_pulumi.spec.service import LatticeService
from lattice_pulumi.spec.service_resources import SecretResource

__all__ = ["ClusterState", "body_key"]


def body_key(body: Mapping[str, Any]) -> str:
    """``namespace/name`` of a body (``default`` namespace when it has none)."""
    meta = body.get("metadata", {})
    return service_key(meta.get("namespace") or "default", meta.get("name", ""))


class ClusterState:
    """Every Lattice object the operator has seen, and the dependency indexes."""

    def __init__(self, cluster: ClusterInfo | None = None) -> None:
        self.cluster = cluster or ClusterInfo()
        self.graph = ServiceGraph(self.cluster)
        self.bodies: dict[str, dict[str, Any]] = {}
        self.services: dict[str, LatticeService] = {}
        self.externals: dict[str, LatticeExternalService] = {}
        self.invalid: dict[str, LatticeError] = {}
        self.policies: dict[str, PolicySource] = {}
        self.secret_providers: dict[str, set[str]] = {}  # provider name -> object keys
        self.authorizer = CedarAuthorizer()
        self.policy_report: LoadReport = self.authorizer.report
        self._asked_authorizer: set[str] = set()
        self._taken: dict[str, tuple[str, int]] = {}  # key -> (uid, generation) reconciled

    # ---- services ---------------------------------------------------------------------

    def observe_service(self, body: Mapping[str, Any]) -> set[str]:
        """Take the latest body of a LatticeService; the other keys to compile again."""
        key = body_key(body)
        previous = self.bodies.get(key)
        self.bodies[key] = dict(body)
        if previous is not None and _same_authored(previous, body):
            return set()
        self._taken.pop(key, None)
        try:
            model = model_from_body(body)
        except LatticeError as exc:
            self.invalid[key] = exc
            return set()
        self.invalid.pop(key, None)
        if not isinstance(model, LatticeService):
            return set()
        if self.services.get(key) == model:
            return set()
        self.services[key] = model
        return self.graph.update(model) - {key}

    def forget_service(self, key: str) -> set[str]:
        """A LatticeService is gone; the keys to compile again."""
        self.bodies.pop(key, None)
        self.invalid.pop(key, None)
        self._taken.pop(key, None)
        self._asked_authorizer.discard(key)
        if self.services.pop(key, None) is None:
            return set()
        return self.graph.remove(key) - {key}

    def note_taken(self, key: str, body: Mapping[str, Any]) -> None:
        """A reconcile of ``key`` started from ``body``."""
        self._taken[key] = _generation_of(body)

    def wants_converge(self, key: str) -> bool:
        """Whether the latest body of ``key`` is newer than the last reconcile started."""
        body = self.bodies.get(key)
        return body is not None and self._taken.get(key) != _generation_of(body)

    def service_uids(self) -> set[str]:
        """The uids of every LatticeService known (owners that still exist)."""
        return {str(b["metadata"].get("uid")) for b in self.bodies.values()}

    def observe_external(self, body: Mapping[str, Any]) -> set[str]:
        key = body_key(body)
        try:
            model = model_from_body(body)
        except LatticeError:
            return self.forget_external(key)
        if not isinstance(model, LatticeExternalService) or self.externals.get(key) == model:
            return set()
        self.externals[key] = model
        return self.graph.update(model) - {key}

    def forget_external(self, key: str) -> set[str]:
        if self.externals.pop(key, None) is None:
            return set()
        return self.graph.remove(key) - {key}

    # ---- policies and providers -----------------------------------------------------------

    def observe_policy(self, policy: CedarPolicy) -> set[str]:
        """A valid CedarPolicy (new or changed): reload the authorizer; the keys to compile."""
        key = service_key(policy.namespace, policy.name)
        source = source_from_policy(policy)
        if self.policies.get(key) == source:
            return set()
        self.policies[key] = source
        return self._reload_policies()

    def forget_policy(self, key: str) -> set[str]:
        if self.policies.pop(key, None) is None:
            return set()
        return self._reload_policies()

    def _reload_policies(self) -> set[str]:
        self.policy_report = self.authorizer.reload(self.policies.values())
        return set(self._asked_authorizer) | self.failed_keys()

    def observe_secret_provider(self, key: str, name: str) -> set[str]:
        holders = self.secret_providers.setdefault(name, set())
        if key in holders:
            return set()
        holders.add(key)
        return self.users_of_provider(name)

    def forget_secret_provider(self, key: str, name: str) -> set[str]:
        holders = self.secret_providers.get(name, set())
        if key not in holders:
            return set()
        holders.discard(key)
        if not holders:
            del self.secret_providers[name]
        return self.users_of_provider(name)

    def users_of_provider(self, name: str) -> set[str]:
        return {key for key, service in self.services.items() if name in _providers_of(service)}

    def missing_providers(self, service: LatticeService) -> list[str]:
        """SecretProviders ``service`` names that the cluster does not have (sorted)."""
        return sorted(p for p in _providers_of(service) if p not in self.secret_providers)

    def failed_keys(self) -> set[str]:
        """Services whose status says Failed (a policy change may fix them)."""
        return {
            key
            for key, body in self.bodies.items()
            if (body.get("status") or {}).get("phase") == "Failed"
        }

    # ---- compiling --------------------------------------------------------------------

    def context_for(self, key: str) -> tuple[CompileContext, RecordingAuthorizer]:
        """A compile context over everything known, with an authorizer that notes its use."""
        recorder = RecordingAuthorizer(self.authorizer)
        context = CompileContext(
            cluster=self.cluster,
            services=self.services,
            external_services=self.externals,
            authorizer=recorder,
        )
        return context, recorder

    def note_compiled(self, key: str, recorder: RecordingAuthorizer) -> None:
        """Remember whether the last compile of ``key`` depended on the policies."""
        if recorder.asked:
            self._asked_authorizer.add(key)
        else:
            self._asked_authorizer.discard(key)


def _generation_of(body: Mapping[str, Any]) -> tuple[str, int]:
    meta = body.get("metadata", {})
    return str(meta.get("uid", "")), int(meta.get("generation") or 0)


def _same_authored(old: Mapping[str, Any], new: Mapping[str, Any]) -> bool:
    """Whether two bodies of one key hold the same spec, labels and annotations."""
    a, b = old.get("metadata", {}), new.get("metadata", {})
    return (
        _generation_of(old) == _generation_of(new)
        and a.get("labels") == b.get("labels")
        and a.get("annotations") == b.get("annotations")
        and old.get("spec") == new.get("spec")
    )


def _providers_of(service: LatticeService) -> set[str]:
    return {
        decl.params.provider
        for decl in service.spec.workload.resources.values()
        if isinstance(decl, SecretResource)
    }
