"""Pulumi mocks for component tests: a monitor that records every registration.

``MockMonitor`` gives ``Mocks.new_resource`` no parent, provider-by-URN or secret markers,
so ``RecordingMonitor`` keeps each ``RegisterResource`` request's type, name, parent,
provider and inputs (secrets still marked) for assertions. ``run_program`` runs a function
as a Pulumi program under these mocks and waits for every Output it returns.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pulumi
from pulumi.runtime import mocks, rpc

__all__ = ["RecordingMonitor", "Registration", "StateMocks", "run_program"]


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


class StateMocks(pulumi.runtime.Mocks):
    """Resources echo their inputs as state; ids are ``<name>-id``."""

    def new_resource(self, args: pulumi.runtime.MockResourceArgs) -> tuple[str, dict[str, Any]]:
        return f"{args.name}-id", dict(args.inputs)

    def call(self, args: pulumi.runtime.MockCallArgs) -> tuple[dict[str, Any], None]:
        return {}, None


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
                )
            )
        return response

    def children_of(self, urn: str) -> list[Registration]:
        return [r for r in self.registrations if r.parent == urn]

    def find(self, type_: str, name: str) -> Registration:
        return next(r for r in self.registrations if r.type == type_ and r.name == name)


def run_program(
    program: Callable[[], Any], *, preview: bool = False, project: str = "project"
) -> RecordingMonitor:
    """Run ``program`` under fresh mocks; wait for the Outputs it returns; the monitor."""
    mock = StateMocks()
    monitor = RecordingMonitor(mock)
    pulumi.runtime.set_mocks(mock, monitor=monitor, preview=preview, project=project)

    @pulumi.runtime.test  # type: ignore[untyped-decorator]
    def run() -> Any:
        return program()

    run()
    return monitor
