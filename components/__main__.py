"""Entry point of the Lattice component provider plugin (``PulumiPlugin.yaml``).

Hosts ``LatticeService`` for programs in other languages through
``pulumi.provider.experimental.component_provider_host``, which infers the provider schema
from the type hints below: ``LatticeServiceArgs`` gives the inputs, the annotations of
``lattice_pulumi.components.LatticeService`` give the outputs. The provider is named
``lattice``, so the type token is the same as in Python: ``lattice:index:LatticeService``.

The ``spec`` input is a whole LatticeService document or only its ``spec`` part; its leaf
values may be Outputs of other resources (an image, another service's ``url``), exactly as
in Python. ``specYaml`` takes YAML text instead (e.g. from ``fn::readFile``). The
Kubernetes provider comes from the caller's ``providers`` option; as in Python, nothing
falls back on the ambient kubeconfig unless ``allowDefaultProvider`` is true.
``LatticeCluster`` will join ``COMPONENTS`` when its compiler lands.

No ``from __future__ import annotations`` here: the schema is read from live annotations.
"""

from typing import Any, NotRequired, TypedDict

import pulumi
from pulumi.provider.experimental import component_provider_host

from lattice_pulumi.components import service as service_component
from lattice_pulumi.errors import CompileError

__all__ = ["COMPONENTS", "PROVIDER_NAME", "LatticeService", "LatticeServiceArgs", "main"]

PROVIDER_NAME = "lattice"


class LatticeServiceArgs(TypedDict):
    """Inputs of LatticeService."""

    spec: NotRequired[dict[str, pulumi.Input[Any]]]
    """The LatticeService document (or its spec part); values may be Outputs."""
    spec_yaml: NotRequired[str]
    """The LatticeService document as YAML text (instead of spec)."""
    namespace: NotRequired[str]
    """The namespace, when spec holds only the spec part (default: default)."""
    allow_default_provider: NotRequired[bool]
    """Use the default Kubernetes provider when no provider is passed."""


class LatticeService(service_component.LatticeService):
    """A Lattice service: workload, storage, ingress and its half of the mesh policy."""

    def __init__(
        self,
        name: str,
        args: LatticeServiceArgs,
        opts: pulumi.ResourceOptions | None = None,
    ) -> None:
        spec = args.get("spec")
        text = args.get("spec_yaml")
        if (spec is None) == (text is None):
            raise CompileError("give exactly one of spec and specYaml", subject=name)
        if isinstance(spec, pulumi.Output):
            raise CompileError(
                "spec must be an object (its values may be Outputs), not one Output",
                subject=name,
            )
        super().__init__(
            name,
            spec if spec is not None else str(text) + "\n",
            opts,
            namespace=args.get("namespace"),
            allow_default_provider=bool(args.get("allow_default_provider", False)),
        )


COMPONENTS: list[type[pulumi.ComponentResource]] = [LatticeService]


def main() -> None:
    component_provider_host(COMPONENTS, name=PROVIDER_NAME)


if __name__ == "__main__":
    main()
