"""The chart add-ons as HelmChartProxy objects: pinned, selected, ordered, schema-valid."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from lattice_pulumi.compile.cluster.addons import CATALOGUE, plan_addons
from lattice_pulumi.compile.cluster.releases import (
    DEPENDS_ANNOTATION,
    WAVE_ANNOTATION,
    addon_releases,
)
from lattice_pulumi.spec import loader
from lattice_pulumi.spec.cluster import LatticeCluster
from lattice_pulumi.spec.yamlout import dump_all as dump_yaml
from tests.conftest import EXAMPLES, ROOT
from tests.manifests import assert_valid
from tests.unit.compile.cluster.helpers import example

GOLDEN = ROOT / "tests" / "golden" / "addons"
CLUSTER_FILES = sorted((EXAMPLES / "clusters").glob("*.yaml"))


def _cluster(path: Path) -> LatticeCluster:
    [cluster] = [r for r in loader.load(path) if isinstance(r, LatticeCluster)]
    return cluster


@pytest.mark.parametrize("path", [pytest.param(p, id=p.stem) for p in CLUSTER_FILES])
def test_releases_match_golden_files_and_their_schema(path: Path) -> None:
    objects = addon_releases(_cluster(path))
    assert_valid(objects)
    rendered = dump_yaml(objects)
    golden = GOLDEN / f"{path.stem}-releases.yaml"
    if os.environ.get("UPDATE_GOLDEN"):
        golden.parent.mkdir(parents=True, exist_ok=True)
        golden.write_text(rendered)
    assert golden.exists(), f"missing {golden}: run with UPDATE_GOLDEN=1 and review it"
    assert rendered == golden.read_text()


def test_one_release_per_chart_addon_pinned_from_the_catalogue() -> None:
    cluster, _ = example("aws")
    releases = addon_releases(cluster)
    charts = [a for a in plan_addons(cluster) if a.is_chart]
    assert [r["spec"]["releaseName"] for r in releases] == [a.name for a in charts]
    for release in releases:
        chart, repo, version, namespace = CATALOGUE[release["spec"]["releaseName"]]
        spec = release["spec"]
        assert (spec["chartName"], spec["repoURL"], spec["version"], spec["namespace"]) == (
            chart, repo, version, namespace,
        )  # fmt: skip
        assert spec["clusterSelector"] == {
            "matchLabels": {"cluster.x-k8s.io/cluster-name": "production"}
        }
        assert release["metadata"]["namespace"] == "capi-production"


def test_what_a_release_needs_sits_in_an_earlier_wave() -> None:
    cluster, _ = example("aws")
    releases = addon_releases(cluster)
    wave = {
        r["spec"]["releaseName"]: int(r["metadata"]["annotations"][WAVE_ANNOTATION])
        for r in releases
    }
    assert wave["cilium"] == 0 and wave["ztunnel"] == 4
    for release in releases:
        needs = release["metadata"]["annotations"].get(DEPENDS_ANNOTATION, "")
        for need in filter(None, needs.split(",")):
            if need in wave:
                assert wave[need] < wave[release["spec"]["releaseName"]]


def test_cilium_chains_for_istio_ambient_only_with_services() -> None:
    on, _ = example("docker", spec__services=True)
    off, _ = example("docker", spec__services=False)

    def cilium(cluster: LatticeCluster) -> dict[str, object]:
        [release] = [r for r in addon_releases(cluster) if r["spec"]["releaseName"] == "cilium"]
        return dict(json.loads(release["spec"]["valuesTemplate"]))

    assert cilium(on)["cni"] == {"exclusive": False}
    assert "cni" not in cilium(off)
    assert cilium(off)["ipam"] == {"operator": {"clusterPoolIPv4PodCIDRList": ["10.244.0.0/16"]}}


def test_hami_turns_off_the_gpu_operators_device_plugin() -> None:
    cluster, _ = example("docker", spec__gpu={"enabled": True})
    [gpu] = [r for r in addon_releases(cluster) if r["spec"]["releaseName"] == "gpu-operator"]
    assert json.loads(gpu["spec"]["valuesTemplate"]) == {"devicePlugin": {"enabled": False}}
