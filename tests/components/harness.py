"""Pulumi mocks for component tests: a monitor that records every registration.

``MockMonitor`` gives ``Mocks.new_resource`` no parent, provider-by-URN or secret markers,
so ``RecordingMonitor`` keeps each ``RegisterResource`` request's type, name, parent,
provider, inputs (secrets still marked), dependencies and ignored changes for assertions.
``run_program`` runs a function as a Pulumi program under these mocks (``StateMocks``
unless others are given) and waits for every Output it returns. ``ClusterMocks`` also answer
the read of the kubeconfig Secret a LatticeCluster makes.
"""

from __future__ import annotations

import base64
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import pulumi
from pulumi.runtime import mocks, rpc

__all__ = [
    "KUBECONFIG",
    "SERVER",
    "ClusterMocks",
    "RecordingMonitor",
    "Registration",
    "StateMocks",
    "run_program",
]


@dataclass(frozen=True)
class Registration:
    """One RegisterResource request as the engine would see it."""

    type: str
    name: str
    urn: str
    parent: str
    provider: str
    custom: bool
    inputs: dict[str, Any]
    secret_properties: frozenset[str]
    dependencies: frozenset[str] = frozenset()
    ignore_changes: tuple[str, ...] = ()


class StateMocks(pulumi.runtime.Mocks):
    """Resources echo their inputs as state; ids are ``<name>-id``."""

    def new_resource(self, args: pulumi.runtime.MockResourceArgs) -> tuple[str, dict[str, Any]]:
        return f"{args.name}-id", dict(args.inputs)

    def call(self, args: pulumi.runtime.MockCallArgs) -> tuple[dict[str, Any], None]:
        return {}, None


SERVER = "https://10.0.0.10:6443"
KUBECONFIG = f"""apiVersion: v1
kind: Config
clusters:
- name: dev
  cluster: {{server: "{SERVER}", certificate-authority-data: Q0E=}}
contexts:
- name: dev-admin@dev
  context: {{cluster: dev, user: dev-admin}}
current-context: dev-admin@dev
users:
- name: dev-admin
  user: {{token: not-a-real-token}}
"""


@dataclass
class ClusterMocks(StateMocks):
    """StateMocks where reading a Secret returns the kubeconfig Cluster API would write."""

    kubeconfig: str = KUBECONFIG
    reads: list[tuple[str, str, str]] = field(default_factory=list)

    def new_resource(self, args: pulumi.runtime.MockResourceArgs) -> tuple[str, dict[str, Any]]:
        if args.resource_id and args.typ == "kubernetes:core/v1:Secret":
            self.reads.append((args.name, args.resource_id, args.provider or ""))
            value = base64.b64encode(self.kubeconfig.encode()).decode()
            return args.resource_id, {"data": {"value": value}}
        return super().new_resource(args)


class RecordingMonitor(mocks.MockMonitor):
    """A MockMonitor keeping every registration, in order."""

    def __init__(self, mock: pulumi.runtime.Mocks) -> None:
        super().__init__(mock)
        self.registrations: list[Registration] = []

    def RegisterResource(self, request: Any) -> Any:  # noqa: N802 (gRPC method name)
        response = super().RegisterResource(request)  # type: ignore[no-untyped-call]
        if request.type != "pulumi:pulumi:Stack":
            raw = rpc.deserialize_properties(request.object)
            secret = frozenset(k for k, v in raw.items() if rpc.is_rpc_secret(v))
            self.registrations.append(
                Registration(
                    type=request.type,
                    name=request.name,
                    urn=response.urn,
                    parent=request.parent,
                    provider=request.provider,
                    custom=request.custom,
                    inputs=rpc.deserialize_properties_unwrap_secrets(request.object)[0],
                    secret_properties=secret,
                    dependencies=frozenset(request.dependencies),
                    ignore_changes=tuple(request.ignoreChanges),
                )
            )
        return response

    def children_of(self, urn: str) -> list[Registration]:
        return [r for r in self.registrations if r.parent == urn]

    def find(self, type_: str, name: str) -> Registration:
        return next(r for r in self.registrations if r.type == type_ and r.name == name)


def run_program(
    program: Callable[[], Any],
    *,
    preview: bool = False,
    project: str = "project",
    mocks: pulumi.runtime.Mocks | None = None,
) -> RecordingMonitor:
    """Run ``program`` under fresh mocks (``StateMocks`` unless given); wait for the Outputs
    it returns; the monitor."""
    mock = mocks or StateMocks()
    monitor = RecordingMonitor(mock)
    pulumi.runtime.set_mocks(mock, monitor=monitor, preview=preview, project=project)

    @pulumi.runtime.test  # type: ignore[untyped-decorator]
    def run() -> Any:
        return program()

    run()
    return monitor
