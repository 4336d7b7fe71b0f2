"""The add-on install order is a dependency graph: every add-on after what it needs."""

from __future__ import annotations

from pathlib import Path

import pytest

from lattice_pulumi.compile.cluster.addons import (
    CATALOGUE,
    DEPENDS_ON,
    Addon,
    install_waves,
    order_addons,
    plan_addons,
)
from lattice_pulumi.errors import CompileError
from lattice_pulumi.spec import loader
from lattice_pulumi.spec.cluster import LatticeCluster
from tests.conftest import EXAMPLES, ROOT

CLUSTER_FILES = [
    *sorted((EXAMPLES / "clusters").glob("*.yaml")),
    *sorted((ROOT / "tests" / "fixtures" / "clusters").rglob("*.yaml")),
]


def _clusters(path: Path) -> list[LatticeCluster]:
    return [r for r in loader.load(path) if isinstance(r, LatticeCluster)]


def _addon(name: str) -> Addon:
    return Addon(name, name, "https://charts.example", "1.0.0", "default", "test")


def test_every_catalogue_entry_and_the_autoscaler_have_their_needs_listed() -> None:
    assert set(DEPENDS_ON) == {*CATALOGUE, "cluster-autoscaler"}
    for name, needs in DEPENDS_ON.items():
        assert set(needs) <= set(DEPENDS_ON), name


@pytest.mark.parametrize("path", [pytest.param(p, id=p.stem) for p in CLUSTER_FILES])
def test_every_example_plan_puts_each_addon_after_what_it_needs(path: Path) -> None:
    for cluster in _clusters(path):
        order = [a.name for a in plan_addons(cluster)]
        assert order[0] == "cilium"
        for position, name in enumerate(order):
            for need in DEPENDS_ON[name]:
                if need in order:
                    assert order.index(need) < position, f"{name} before {need}"


@pytest.mark.parametrize("path", [pytest.param(p, id=p.stem) for p in CLUSTER_FILES])
def test_waves_hold_the_plan_once_and_only_need_earlier_waves(path: Path) -> None:
    for cluster in _clusters(path):
        plan = plan_addons(cluster)
        waves = install_waves(plan)
        assert sorted(a.name for wave in waves for a in wave) == sorted(a.name for a in plan)
        seen: set[str] = set()
        for wave in waves:
            names = {a.name for a in wave}
            for addon in wave:
                needs = {n for n in DEPENDS_ON[addon.name] if n in {a.name for a in plan}}
                assert needs <= seen, addon.name
                assert not needs & names
            seen |= names


def test_the_production_cluster_installs_in_these_waves() -> None:
    [cluster] = _clusters(EXAMPLES / "clusters" / "production.yaml")
    waves = [[a.name for a in wave] for wave in install_waves(plan_addons(cluster))]
    assert waves == [
        ["cilium", "aws-cloud-controller-manager", "gateway-api-crds"],
        [
            "cert-manager",
            "istio-base",
            "metrics-server",
            "velero",
            "gpu-operator",
            "cluster-autoscaler",
        ],
        ["istiod", "victoria-metrics-operator", "external-secrets", "hami"],
        ["istio-cni", "keda"],
        ["ztunnel"],
    ]


def test_order_moves_an_addon_behind_what_it_needs_whatever_the_input_order() -> None:
    given = [_addon("ztunnel"), _addon("istio-cni"), _addon("istiod"), _addon("cilium")]
    assert [a.name for a in order_addons(given)] == ["istiod", "istio-cni", "ztunnel", "cilium"]


def test_a_dependency_cycle_is_refused_naming_its_members(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setitem(DEPENDS_ON, "cilium", ("hami",))
    monkeypatch.setitem(DEPENDS_ON, "hami", ("cilium",))
    with pytest.raises(CompileError, match="cycle among: cilium, hami"):
        order_addons([_addon("cilium"), _addon("hami"), _addon("velero")])
