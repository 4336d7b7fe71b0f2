"""Every bundled cluster, provider and backup example validates and passes its checks; the
seed's production cluster says what the seed promises."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from ruamel.yaml import YAML

from lattice_pulumi.spec.backup import LatticeBackupPolicy
from lattice_pulumi.spec.cluster import LatticeCluster
from lattice_pulumi.spec.meta import Resource
from lattice_pulumi.spec.providers import CloudProvider, SecretProvider
from tests.conftest import EXAMPLES

MODELS: dict[str, type[Resource]] = {
    cls.__name__: cls for cls in (LatticeCluster, CloudProvider, SecretProvider,
                                  LatticeBackupPolicy)
}
FILES = sorted(
    path for folder in ("clusters", "secrets", "backups")
    for path in (EXAMPLES / folder).glob("*.yaml")
)


def documents(path: Path) -> list[dict[str, Any]]:
    return [doc for doc in YAML(typ="safe").load_all(path.read_text()) if doc is not None]


def load(path: Path) -> list[Resource]:
    return [MODELS[doc["kind"]].model_validate(doc) for doc in documents(path)]


def test_the_expected_examples_exist() -> None:
    names = {path.relative_to(EXAMPLES).as_posix() for path in FILES}
    assert {"clusters/production.yaml", "clusters/docker-dev.yaml",
            "clusters/proxmox-lab.yaml", "clusters/openstack.yaml"} <= names


@pytest.mark.parametrize("path", [pytest.param(p, id=p.relative_to(EXAMPLES).as_posix())
                                  for p in FILES])
def test_example_validates_and_passes_checks(path: Path) -> None:
    resources = load(path)
    assert resources
    assert [str(e) for r in resources for e in r.check()] == []


def test_each_cluster_example_ships_the_cloud_provider_it_references() -> None:
    for path in (EXAMPLES / "clusters").glob("*.yaml"):
        resources = load(path)
        providers = {r.name: r for r in resources if isinstance(r, CloudProvider)}
        for cluster in (r for r in resources if isinstance(r, LatticeCluster)):
            provider = providers[cluster.spec.provider_ref]
            assert provider.spec.type == cluster.spec.provider.config.type, path.name


def test_production_cluster_matches_the_seed() -> None:
    [cluster] = [r for r in load(EXAMPLES / "clusters" / "production.yaml")
                 if isinstance(r, LatticeCluster)]
    spec = cluster.spec
    assert spec.provider.config.aws is not None
    assert (spec.provider.kubernetes.bootstrap, spec.nodes.control_plane.replicas) == (
        "kubeadm", 3)
    pools = spec.nodes.worker_pools
    assert pools["general"].replicas == 10
    gpu = pools["gpu"]
    assert (gpu.min, gpu.max, gpu.gpu, gpu.instance_type) == (2, 8, True, "g5.2xlarge")
    assert [(t.key, t.effect) for t in gpu.taints] == [("nvidia.com/gpu", "NoSchedule")]
    assert spec.gpu.enabled and spec.monitoring.enabled and spec.backups.enabled
    assert spec.parent_config is not None
