"""Random and mutated documents: the loader returns objects or errors, never raises."""

from __future__ import annotations

import copy
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from ruamel.yaml import YAML

from lattice_pulumi.errors import SpecError
from lattice_pulumi.spec.loader import load_text
from tests.builders import service, to_yaml
from tests.conftest import ROOT

scalars = st.one_of(
    st.none(), st.booleans(), st.integers(-(2**40), 2**40), st.floats(allow_nan=False),
    st.text(max_size=20), st.sampled_from(["${resources.x.y}", "$$", "${", "0644", "*", ""]),
)
values = st.recursive(
    scalars,
    lambda inner: st.one_of(
        st.lists(inner, max_size=4), st.dictionaries(st.text(max_size=10), inner, max_size=4)
    ),
    max_leaves=20,
)
_PATHS = [
    ("spec", "replicas"), ("spec", "containers"), ("spec", "containers", "main"),
    ("spec", "containers", "main", "image"), ("spec", "containers", "main", "variables"),
    ("spec", "containers", "main", "files"), ("spec", "containers", "main", "volumes"),
    ("spec", "resources"), ("spec", "service"), ("spec", "ingress"), ("spec", "deploy"),
    ("spec", "autoscaling"), ("metadata",), ("metadata", "name"), ("kind",), ("spec",),
]


def _mutate(doc: dict[str, Any], path: tuple[str, ...], value: Any) -> dict[str, Any]:
    node = doc
    for part in path[:-1]:
        if not isinstance(node.get(part), dict):
            node[part] = {}
        node = node[part]
    node[path[-1]] = value
    return doc


def _assert_outcome(text: str) -> None:
    result = load_text(text, "fuzz.yaml")
    assert all(isinstance(e, SpecError) for e in result.errors + result.warnings)
    assert not (result.errors and result.resources and len(result.resources) > 1)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(path=st.sampled_from(_PATHS), value=values)
def test_mutated_service_never_raises(path: tuple[str, ...], value: Any) -> None:
    _assert_outcome(to_yaml(_mutate(service(), path, value)))


@settings(max_examples=200, deadline=None)
@given(text=st.text(max_size=200))
def test_random_text_never_raises(text: str) -> None:
    _assert_outcome(text)


@settings(max_examples=100, deadline=None)
@given(doc=st.dictionaries(st.text(max_size=8), values, max_size=5))
def test_random_mapping_never_raises(doc: dict[str, Any]) -> None:
    _assert_outcome(to_yaml(doc))


_ORIGINAL = ROOT / "tests" / "fixtures" / "clusters" / "original"
_CLUSTERS = [
    next(iter(YAML(typ="safe", pure=True).load_all(p.read_text())))
    for p in sorted(_ORIGINAL.glob("*.yaml"))
]
# Where the original Lattice's spellings are rewritten (spec.cluster_aliases).
_CLUSTER_PATHS = [
    ("spec", "nodes", "controlPlane"), ("spec", "nodes", "controlPlane", "instanceType"),
    ("spec", "nodes", "controlPlane", "rootVolume"), ("spec", "nodes", "workerPools"),
    ("spec", "nodes", "workerPools", "general"),
    ("spec", "nodes", "workerPools", "general", "instanceType"),
    ("spec", "nodes", "workerPools", "general", "rootVolume", "sizeGb"),
    ("spec", "networking"), ("spec", "networking", "default"), ("spec", "parentConfig"),
    ("spec", "monitoring"), ("spec", "backups"), ("spec", "gpu"), ("spec", "nodes"),
    ("spec", "provider", "kubernetes", "version"), ("spec", "provider", "config"),
    ("spec", "provider", "config", "aws", "cpInstanceType"),
    ("spec", "provider", "config", "aws", "workerRootVolumeSizeGb"),
    ("spec", "provider", "config", "openstack", "cpFlavor"),
    ("spec", "provider", "config", "proxmox", "ipv4Pool"),
    ("spec", "provider", "config", "proxmox", "ipv4Pool", "range"),
    ("spec", "provider", "config", "proxmox", "cpCores"), ("spec",),
]  # fmt: skip


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    doc=st.sampled_from(_CLUSTERS),
    path=st.sampled_from(_CLUSTER_PATHS),
    value=values,
)
def test_mutated_original_cluster_never_raises(
    doc: dict[str, Any], path: tuple[str, ...], value: Any
) -> None:
    _assert_outcome(to_yaml(_mutate(copy.deepcopy(doc), path, value)))
