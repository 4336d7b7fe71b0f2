"""Kubernetes versions of the self-cluster planner: reading, spelling, the next step."""

from __future__ import annotations

import pytest

from lattice_pulumi.compile.operator_bundle import OPERATOR_RULES
from lattice_pulumi.operator.cluster_versions import (
    Version,
    next_step,
    parse_version,
    spell_version,
)


@pytest.mark.parametrize(
    ("text", "version"),
    [
        pytest.param("v1.33.0", Version(1, 33, 0), id="kubeadm spelling"),
        pytest.param("v1.33.2+rke2r1", Version(1, 33, 2), id="rke2 spelling"),
        pytest.param("1.34.1", Version(1, 34, 1), id="the spec's spelling"),
        pytest.param("v1.33", None, id="no patch"),
        pytest.param("latest", None, id="not a version"),
        pytest.param(None, None, id="absent"),
    ],
)
def test_versions_are_read_from_every_spelling(text: object, version: Version | None) -> None:
    assert parse_version(text) == version


def test_versions_are_spelled_per_bootstrap_flavour() -> None:
    assert spell_version(Version(1, 33, 0), "kubeadm") == "v1.33.0"
    assert spell_version(Version(1, 33, 0), "rke2") == "v1.33.0+rke2r1"


@pytest.mark.parametrize(
    ("current", "target", "step"),
    [
        pytest.param(Version(1, 32, 4), Version(1, 34, 1), Version(1, 33, 0), id="next minor, .0"),
        pytest.param(Version(1, 33, 0), Version(1, 34, 1), Version(1, 34, 1), id="the target"),
        pytest.param(Version(1, 34, 0), Version(1, 34, 2), Version(1, 34, 2), id="a patch"),
    ],
)
def test_the_next_step_is_never_more_than_one_minor(
    current: Version, target: Version, step: Version
) -> None:
    assert next_step(current, target) == step


def test_the_bundle_lets_the_operator_write_what_the_self_cluster_writes() -> None:
    granted = {
        (group, resource, verb)
        for groups, resources, verbs, _ in OPERATOR_RULES
        for group in groups
        for resource in resources
        for verb in verbs
    }
    needed = {
        ("lattice.dev", "latticeclusters", "watch"),
        ("lattice.dev", "latticeclusters/status", "patch"),
        ("cluster.x-k8s.io", "clusters", "get"),
        ("cluster.x-k8s.io", "machinedeployments", "patch"),
        ("cluster.x-k8s.io", "machinehealthchecks", "create"),
        ("cluster.x-k8s.io", "machinehealthchecks", "patch"),
        ("controlplane.cluster.x-k8s.io", "kubeadmcontrolplanes", "patch"),
        ("controlplane.cluster.x-k8s.io", "rke2controlplanes", "patch"),
    }
    assert needed <= granted
