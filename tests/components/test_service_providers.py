"""Providers reach every child through parent=; no provider at all is refused unless allowed."""

from __future__ import annotations

from typing import Any

import pulumi
import pulumi_kubernetes as k8s
import pytest

from lattice_pulumi.compile.context import ClusterInfo
from lattice_pulumi.components import TYPE_TOKEN, LatticeService, ProviderRequired
from tests.builders import service
from tests.components.harness import RecordingMonitor, run_program


class Parent(pulumi.ComponentResource):
    """A user's own component wrapping services."""

    def __init__(self, name: str, opts: pulumi.ResourceOptions) -> None:
        super().__init__("test:index:Parent", name, None, opts)
        LatticeService("api", service(), pulumi.ResourceOptions(parent=self))


class FakeCluster:
    """Stands in for the LatticeCluster component (not written yet): facts and a provider."""

    def __init__(self, provider: pulumi.ProviderResource) -> None:
        self.cluster_info = ClusterInfo(name="edge", domain="edge.local")
        self.kubernetes_provider: pulumi.ProviderResource | None = provider


def _children_providers(monitor: RecordingMonitor) -> set[str]:
    component = monitor.find(TYPE_TOKEN, "api")
    children = monitor.children_of(component.urn)
    assert children
    return {c.provider for c in children}


def _with_opts(make: Any) -> Any:
    def program() -> Any:
        provider = k8s.Provider("target", kubeconfig="unused")
        return LatticeService("api", service(), make(provider)).urn

    return program


@pytest.mark.parametrize(
    "make_opts",
    [
        pytest.param(lambda p: pulumi.ResourceOptions(provider=p), id="opts.provider"),
        pytest.param(
            lambda p: pulumi.ResourceOptions(providers={"kubernetes": p}), id="opts.providers map"
        ),
        pytest.param(lambda p: pulumi.ResourceOptions(providers=[p]), id="opts.providers list"),
    ],
)
def test_provider_option_reaches_every_child(make_opts: Any) -> None:
    monitor = run_program(_with_opts(make_opts))
    (provider,) = _children_providers(monitor)
    assert provider == (
        "urn:pulumi:stack::project::pulumi:pulumi:Stack$pulumi:providers:kubernetes::target::target-id"
    )


def test_provider_of_a_parent_component_is_inherited() -> None:
    def program() -> Any:
        provider = k8s.Provider("target", kubeconfig="unused")
        return Parent("team", pulumi.ResourceOptions(providers=[provider])).urn

    (provider,) = _children_providers(run_program(program))
    assert "::target::" in provider


def test_provider_and_facts_of_a_cluster_target() -> None:
    found: dict[str, Any] = {}

    def program() -> Any:
        cluster = FakeCluster(k8s.Provider("edge", kubeconfig="unused"))
        api = LatticeService("api", service(), cluster=cluster)
        return api.host.apply(lambda host: found.setdefault("host", host))

    (provider,) = _children_providers(run_program(program))
    assert "::edge::" in provider
    assert found["host"] == "api.shop.svc.edge.local"


def test_no_provider_is_refused_before_anything_is_registered() -> None:
    def program() -> Any:
        return LatticeService("api", service()).urn

    with pytest.raises(ProviderRequired) as caught:
        run_program(program)
    assert str(caught.value) == (
        "LatticeService 'api': no Kubernetes provider given; pass "
        "opts=ResourceOptions(provider=...) or cluster=..., or set allow_default_provider=True "
        "(config lattice:allowDefaultProvider) to use the ambient kubeconfig"
    )


def test_default_provider_when_allowed() -> None:
    monitor = run_program(lambda: LatticeService("api", service(), allow_default_provider=True).urn)
    assert _children_providers(monitor) == {""}
