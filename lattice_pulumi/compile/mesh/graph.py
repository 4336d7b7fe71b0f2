"""ServiceGraph: every service's mesh objects, kept current one changed spec at a time.

The graph holds the services and external services it was given, their declarations, and
the compiled objects of each service and external service. ``update(spec)`` recompiles only
what can depend on that spec: the spec itself and the services that declare it as a callee
(their egress carries its ports, or its endpoints and allowed requesters), and returns the
keys whose objects actually changed. ``remove(key)`` does the same for a deletion (the
removed key is returned: its objects must be deleted). Work per update is proportional to
the number of declared callers of the changed spec, not to the size of the graph.

Objects are the same as ``compile_service_mesh`` / ``compile_external_mesh`` give for a
context knowing the same specs.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from lattice_pulumi.compile.context import ClusterInfo, service_key
from lattice_pulumi.compile.mesh import policies, rule
from lattice_pulumi.compile.mesh.report import MeshReport, build_report
from lattice_pulumi.compile.mesh.view import MeshMode, MeshView
from lattice_pulumi.spec.external import LatticeExternalService
from lattice_pulumi.spec.service import LatticeService

__all__ = ["ServiceGraph", "Spec"]

Spec = LatticeService | LatticeExternalService


class ServiceGraph:
    """Services, external services, their declarations and compiled mesh objects."""

    def __init__(
        self, cluster: ClusterInfo | None = None, mode: MeshMode = MeshMode.AMBIENT
    ) -> None:
        self._services: dict[str, LatticeService] = {}
        self._externals: dict[str, LatticeExternalService] = {}
        self._declarations: dict[str, rule.Declarations] = {}
        self._referrers: dict[str, set[str]] = {}
        self._objects: dict[str, list[dict[str, Any]]] = {}
        self._view = MeshView(cluster or ClusterInfo(), self._services, self._externals, mode)

    @classmethod
    def of(
        cls,
        specs: Iterable[object],
        cluster: ClusterInfo | None = None,
        mode: MeshMode = MeshMode.AMBIENT,
    ) -> ServiceGraph:
        """A graph of every service and external service in ``specs`` (others are ignored)."""
        graph = cls(cluster, mode)
        chosen = [s for s in specs if isinstance(s, LatticeService | LatticeExternalService)]
        for spec in chosen:
            graph._drop(service_key(spec.namespace, spec.name))
            graph._store(spec)
        for key in graph.get_keys():
            graph._objects[key] = graph._compile(key)
        return graph

    def get_keys(self) -> list[str]:
        """Keys of every service and external service, sorted."""
        return sorted({*self._services, *self._externals})

    def objects(self, key: str) -> list[dict[str, Any]]:
        """The compiled objects of one service or external service (empty if unknown)."""
        return list(self._objects.get(key, []))

    def all_objects(self) -> list[dict[str, Any]]:
        """Every compiled object, grouped by key in key order."""
        return [obj for key in self.get_keys() for obj in self._objects[key]]

    def update(self, spec: Spec) -> set[str]:
        """Add or replace one spec; the keys whose objects changed."""
        key = service_key(spec.namespace, spec.name)
        self._drop(key)
        self._store(spec)
        return self._recompile({key, *self._referrers.get(key, ())})

    def remove(self, key: str) -> set[str]:
        """Forget one spec; the keys whose objects changed (``key`` itself if it existed)."""
        if key not in self._services and key not in self._externals:
            return set()
        self._drop(key)
        return self._recompile({key, *self._referrers.get(key, ())})

    def report(self) -> MeshReport:
        return build_report(self._declarations, self._services, self._externals)

    def _store(self, spec: Spec) -> None:
        key = service_key(spec.namespace, spec.name)
        if isinstance(spec, LatticeExternalService):
            self._externals[key] = spec
            return
        self._services[key] = spec
        decl = rule.declarations_of(spec)
        self._declarations[key] = decl
        for target in (*decl.callee_keys(), *decl.external_keys()):
            self._referrers.setdefault(target, set()).add(key)

    def _drop(self, key: str) -> None:
        self._externals.pop(key, None)
        if self._services.pop(key, None) is None:
            return
        decl = self._declarations.pop(key)
        for target in (*decl.callee_keys(), *decl.external_keys()):
            referrers = self._referrers.get(target)
            if referrers is not None:
                referrers.discard(key)
                if not referrers:
                    del self._referrers[target]

    def _compile(self, key: str) -> list[dict[str, Any]]:
        service = self._services.get(key)
        if service is not None:
            return policies.compile_service_view(service, self._view)
        external = self._externals.get(key)
        return [] if external is None else policies.compile_external_view(external)

    def _recompile(self, keys: set[str]) -> set[str]:
        changed = set()
        for key in sorted(keys):
            new = self._compile(key)
            if new != self._objects.get(key, []):
                changed.add(key)
            if new:
                self._objects[key] = new
            else:
                self._objects.pop(key, None)
        return changed
