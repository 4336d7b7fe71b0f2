"""The services registered in the running Pulumi program, for contexts and the mesh report.

Each LatticeService compiles its own half of every mesh edge; whether the other half exists
is a question about the whole program. The registry records every service a program
creates (one registry per program run, keyed by the run's resource monitor, so stacks and
test runs in one process stay apart) and answers it with ``compile.mesh.ServiceGraph``.

It also supplies the default ``CompileContext`` of a service created without one: the
base context set with ``ServiceRegistry.use`` (cluster, authorizer, images, known specs)
plus every service registered so far. Templates such as ``${resources.api.port}`` need
the callee's spec, so create callees first or ``use`` a context built from every spec.
"""

from __future__ import annotations

import dataclasses
import weakref
from typing import Any

from pulumi.runtime import settings

from lattice_pulumi.compile.context import ClusterInfo, CompileContext, service_key
from lattice_pulumi.compile.mesh.graph import ServiceGraph
from lattice_pulumi.compile.mesh.report import MeshReport
from lattice_pulumi.errors import CompileError
from lattice_pulumi.spec.provisioners import builtin_provisioners
from lattice_pulumi.spec.service import LatticeService

__all__ = ["ServiceRegistry", "current_registry", "mesh_report"]


class ServiceRegistry:
    """Services of one program run, and the base context new services compile with."""

    def __init__(self, base: CompileContext | None = None) -> None:
        self._base = base or CompileContext(provisioners=tuple(builtin_provisioners()))
        self._services: dict[str, LatticeService] = {}
        self._owners: dict[str, str] = {}

    @property
    def base(self) -> CompileContext:
        return self._base

    def use(self, context: CompileContext) -> None:
        """Compile services created without a context against ``context`` from now on."""
        self._base = context

    def add(self, service: LatticeService, owner: str) -> None:
        """Record ``service``, created by the component named ``owner``."""
        key = service_key(service.namespace, service.name)
        if key in self._owners and self._owners[key] != owner:
            raise CompileError(
                f"service {key} is already deployed by component '{self._owners[key]}'",
                subject=f"component '{owner}'",
            )
        self._services[key] = service
        self._owners[key] = owner

    def get_services(self) -> list[LatticeService]:
        """Registered services, in key order."""
        return [self._services[key] for key in sorted(self._services)]

    def context_for(self, service: LatticeService, cluster: ClusterInfo | None) -> CompileContext:
        """The base context knowing every registered service and ``service`` itself."""
        services = {**self._base.services, **self._services}
        services[service_key(service.namespace, service.name)] = service
        changes: dict[str, Any] = {"services": services}
        if cluster is not None:
            changes["cluster"] = cluster
        return dataclasses.replace(self._base, **changes)

    def report(self) -> MeshReport:
        """One-sided and unknown declarations among the registered (and base) services."""
        specs = [*self._base.services.values(), *self._base.external_services.values()]
        graph = ServiceGraph.of([*specs, *self.get_services()], cluster=self._base.cluster)
        return graph.report()


_registries: weakref.WeakKeyDictionary[Any, ServiceRegistry] = weakref.WeakKeyDictionary()


def current_registry() -> ServiceRegistry:
    """The registry of the program running now (a fresh one per run, mocks included)."""
    monitor = settings.SETTINGS.monitor
    if monitor is None:
        raise CompileError("no Pulumi program is running (no resource monitor)")
    registry = _registries.get(monitor)
    if registry is None:
        registry = _registries[monitor] = ServiceRegistry()
    return registry


def mesh_report(registry: ServiceRegistry | None = None) -> MeshReport:
    """The mesh report of the services this program created (see ``MeshReport.findings``)."""
    return (registry or current_registry()).report()
