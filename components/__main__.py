"""Entry point of the Lattice component provider plugin (``PulumiPlugin.yaml``).

Hosts ``LatticeService`` and ``LatticeCluster`` for programs in other languages through
``pulumi.provider.experimental.component_provider_host``, which infers the provider schema
from the type hints below: ``LatticeServiceArgs`` and ``LatticeClusterArgs`` give the
inputs, the annotations of the components in ``lattice_pulumi.components`` give the outputs.
The provider is named ``lattice``, so the type tokens are the same as in Python:
``lattice:index:LatticeService`` and ``lattice:index:LatticeCluster``.

The ``spec`` input is a whole LatticeService document or only its ``spec`` part; its leaf
values may be Outputs of other resources (an image, another service's ``url``), exactly as
in Python. ``specYaml`` takes YAML text instead (e.g. from ``fn::readFile``). The
Kubernetes provider comes from the caller's ``providers`` option; as in Python, nothing
falls back on the ambient kubeconfig unless ``allowDefaultProvider`` is true.

``LatticeCluster`` takes the cluster and its CloudProvider as objects or YAML text (one YAML
text may hold both). The Kubernetes provider of the caller's ``providers`` option (or
``provider``) is the parent: the management or bootstrap cluster the Cluster API objects
go to; it is required and is not passed on to the component's other children. Outputs are
``kubeconfig`` (secret) and ``endpoint``, from which the program builds its own provider
for the new cluster.

No ``from __future__ import annotations`` here: the schema is read from live annotations.
"""

import copy
from collections.abc import Mapping
from typing import Any, NotRequired, TypedDict

import pulumi
from pulumi.provider.experimental import component_provider_host

from lattice_pulumi.compile.cluster import ClusterCompileContext
from lattice_pulumi.components import lattice_cluster as cluster_component
from lattice_pulumi.components import service as service_component
from lattice_pulumi.components.providers import KUBERNETES
from lattice_pulumi.components.specs import DocumentInput
from lattice_pulumi.errors import CompileError

__all__ = [
    "COMPONENTS",
    "PROVIDER_NAME",
    "LatticeCluster",
    "LatticeClusterArgs",
    "LatticeService",
    "LatticeServiceArgs",
    "main",
]

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
    skip_await: NotRequired[bool]
    """Apply without waiting for workloads to become ready (pulumi.com/skipAwait)."""


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
            skip_await=bool(args.get("skip_await", False)),
        )


class LatticeClusterArgs(TypedDict):
    """Inputs of LatticeCluster."""

    spec: NotRequired[dict[str, Any]]
    """The LatticeCluster document (or its spec part), plain values."""
    spec_yaml: NotRequired[str]
    """The LatticeCluster document as YAML text (instead of spec); may hold the CloudProvider."""
    cloud_provider: NotRequired[dict[str, Any]]
    """The CloudProvider document (or its spec part) the cluster's providerRef names."""
    cloud_provider_yaml: NotRequired[str]
    """The CloudProvider document as YAML text (instead of cloudProvider)."""
    bootstrap_endpoint: NotRequired[str]
    """Base URL of the parent's bootstrap server (a child cluster fetches its bundle there)."""
    parent_ca_pem: NotRequired[str]
    """PEM CA bundle of the parent's bootstrap server."""
    token_secret: NotRequired[str]
    """Secret in capi-<cluster> holding the bootstrap token (default <cluster>-bootstrap-token)."""
    credentials_from_env: NotRequired[bool]
    """Create the CloudProvider's credentials Secret from the provider's environment."""


class LatticeCluster(cluster_component.LatticeCluster):
    """A Lattice cluster: Cluster API objects on the parent, the Lattice CRDs in the cluster."""

    def __init__(
        self,
        name: str,
        args: LatticeClusterArgs,
        opts: pulumi.ResourceOptions | None = None,
    ) -> None:
        parent, opts = _take_kubernetes_provider(opts or pulumi.ResourceOptions())
        context = ClusterCompileContext(
            bootstrap_endpoint=args.get("bootstrap_endpoint"),
            parent_ca_pem=args.get("parent_ca_pem"),
            token_secret=args.get("token_secret"),
        )
        super().__init__(
            name,
            _one_of(name, "spec", args.get("spec"), args.get("spec_yaml")),
            opts,
            cloud_provider=_optional_one_of(
                name,
                "cloudProvider",
                args.get("cloud_provider"),
                args.get("cloud_provider_yaml"),
            ),
            parent_provider=parent,
            context=context,
            credentials_from_env=bool(args.get("credentials_from_env", False)),
        )


def _optional_one_of(
    name: str, field: str, value: Mapping[str, Any] | None, text: str | None
) -> DocumentInput | None:
    if value is not None and text is not None:
        raise CompileError(f"give at most one of {field} and {field}Yaml", subject=name)
    if isinstance(value, pulumi.Output):
        raise CompileError(f"{field} must be an object of plain values", subject=name)
    if text is not None:
        return str(text) + "\n"  # a newline makes the loader read text, not a path
    return value


def _one_of(name: str, field: str, value: Mapping[str, Any] | None, text: str | None) -> Any:
    found = _optional_one_of(name, field, value, text)
    if found is None:
        raise CompileError(f"give exactly one of {field} and {field}Yaml", subject=name)
    return found


def _take_kubernetes_provider(
    opts: pulumi.ResourceOptions,
) -> tuple[pulumi.ProviderResource | None, pulumi.ResourceOptions]:
    """The caller's Kubernetes provider, and ``opts`` without it (children get their own)."""
    opts = copy.copy(opts)
    found: pulumi.ProviderResource | None = None
    if isinstance(opts.provider, pulumi.ProviderResource) and opts.provider.package == KUBERNETES:
        found, opts.provider = opts.provider, None
    providers = opts.providers
    if isinstance(providers, Mapping) and KUBERNETES in providers:
        found = found or providers[KUBERNETES]
        opts.providers = {k: v for k, v in providers.items() if k != KUBERNETES}
    elif isinstance(providers, list):
        kept = [p for p in providers if p.package != KUBERNETES]
        found = found or next((p for p in providers if p.package == KUBERNETES), None)
        opts.providers = kept
    return found, opts


COMPONENTS: list[type[pulumi.ComponentResource]] = [LatticeService, LatticeCluster]


def main() -> None:
    component_provider_host(COMPONENTS, name=PROVIDER_NAME)


if __name__ == "__main__":
    main()
