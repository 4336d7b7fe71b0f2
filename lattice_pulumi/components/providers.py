"""Which Kubernetes provider a component's children use, and the no-ambient-kubeconfig rule.

Children are registered with ``parent=`` the component, and Pulumi passes a component's
``provider``/``providers`` options down to them, so one provider given to the component
reaches every object it creates. A component never falls back silently on the default
provider (the ambient ``~/.kube/config`` or ``KUBECONFIG``, whichever cluster that is): a
Kubernetes provider must come from ``opts.provider``, ``opts.providers``, a parent
component, or the ``cluster`` argument, unless the program opts in with
``allow_default_provider=True`` or the stack config ``lattice:allowDefaultProvider: true``.
Otherwise ``ProviderRequired`` is raised before anything is registered.
"""

from __future__ import annotations

from collections.abc import Mapping

import pulumi

from lattice_pulumi.errors import LatticeError

__all__ = ["KUBERNETES", "ProviderRequired", "has_kubernetes_provider", "resolve_options"]

KUBERNETES = "kubernetes"


class ProviderRequired(LatticeError):
    """No Kubernetes provider was given and the default provider was not allowed."""


def _is_kubernetes(provider: object) -> bool:
    return isinstance(provider, pulumi.ProviderResource) and provider.package == KUBERNETES


def has_kubernetes_provider(opts: pulumi.ResourceOptions) -> bool:
    """Whether ``opts`` (or the parent it names) brings a Kubernetes provider."""
    if _is_kubernetes(opts.provider):
        return True
    providers = opts.providers
    if isinstance(providers, Mapping):
        if any(_is_kubernetes(p) for p in providers.values()):
            return True
    elif providers is not None and any(_is_kubernetes(p) for p in providers):
        return True
    inherited = getattr(opts.parent, "_providers", None) if opts.parent is not None else None
    return isinstance(inherited, Mapping) and KUBERNETES in inherited


def _allowed_by_config() -> bool:
    return bool(pulumi.Config("lattice").get_bool("allowDefaultProvider"))


def resolve_options(
    opts: pulumi.ResourceOptions | None,
    cluster_provider: pulumi.ProviderResource | None,
    *,
    allow_default_provider: bool,
    subject: str,
) -> pulumi.ResourceOptions:
    """``opts`` with the cluster's provider added when it has none; raises ProviderRequired."""
    opts = opts or pulumi.ResourceOptions()
    if has_kubernetes_provider(opts):
        return opts
    if cluster_provider is not None:
        return pulumi.ResourceOptions.merge(
            opts, pulumi.ResourceOptions(providers={KUBERNETES: cluster_provider})
        )
    if allow_default_provider or _allowed_by_config():
        return opts
    raise ProviderRequired(
        f"{subject}: no Kubernetes provider given; pass opts=ResourceOptions(provider=...) "
        "or cluster=..., or set allow_default_provider=True (config "
        "lattice:allowDefaultProvider) to use the ambient kubeconfig"
    )
