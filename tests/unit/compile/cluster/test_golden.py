"""Golden files per provider and bootstrap flavour, reviewed once, then kept.

Regenerate after an intended change with ``UPDATE_GOLDEN=1 pytest tests/unit/compile/cluster``
and review the diff like code. Every object also validates against its schema (RKE2 kinds
have none: ``test_rke2_fields`` checks them).
"""

from __future__ import annotations

import os

import pytest

from lattice_pulumi.compile.cluster import compile_cluster
from lattice_pulumi.spec.yamlout import dump_all
from tests.conftest import ROOT
from tests.manifests import assert_valid
from tests.unit.compile.cluster.helpers import PARENT, example

GOLDEN = ROOT / "tests" / "golden" / "clusters"
MATRIX = [
    pytest.param(provider, bootstrap, id=f"{provider} with {bootstrap}")
    for provider in ("aws", "openstack", "proxmox", "docker")
    for bootstrap in ("kubeadm", "rke2")
]


@pytest.mark.parametrize(("provider", "bootstrap"), MATRIX)
def test_output_matches_golden_file(provider: str, bootstrap: str) -> None:
    cluster, cloud = example(provider, bootstrap)
    objects = compile_cluster(cluster, cloud, PARENT)
    assert_valid(objects)
    rendered = dump_all(objects)
    golden = GOLDEN / f"{provider}-{bootstrap}.yaml"
    if os.environ.get("UPDATE_GOLDEN"):
        golden.parent.mkdir(parents=True, exist_ok=True)
        golden.write_text(rendered)
    assert golden.exists(), f"missing {golden}: run with UPDATE_GOLDEN=1 and review it"
    assert rendered == golden.read_text()


@pytest.mark.parametrize(("provider", "bootstrap"), MATRIX)
def test_compiling_twice_gives_the_same_objects_and_leaves_the_input_alone(
    provider: str, bootstrap: str
) -> None:
    cluster, cloud = example(provider, bootstrap)
    before = (cluster.model_dump(), cloud.model_dump())
    first = dump_all(compile_cluster(cluster, cloud, PARENT))
    assert dump_all(compile_cluster(cluster, cloud, PARENT)) == first
    assert (cluster.model_dump(), cloud.model_dump()) == before
