"""The install plan: phases in order, with what each does for the cluster."""

from __future__ import annotations

from lattice_pulumi.install import INSTALL_PHASES, UNINSTALL_PHASES, plan_install
from tests.unit.compile.cluster.helpers import example


def test_install_phases_run_in_the_documented_order() -> None:
    assert [p.name for p in INSTALL_PHASES] == [
        "bootstrap-plane", "cluster-api", "apply-cluster", "wait-ready", "addons", "pivot",
        "remove-bootstrap",
    ]  # fmt: skip
    assert [p.name for p in UNINSTALL_PHASES] == [
        "bootstrap-plane", "pivot-back", "delete-cluster", "remove-bootstrap",
    ]  # fmt: skip


def test_the_plan_names_providers_objects_machines_and_addon_waves() -> None:
    cluster, cloud = example("docker", spec__gpu={"enabled": True})
    details = {step.phase.name: step.details for step in plan_install(cluster, cloud)}
    assert (
        details["cluster-api"][0]
        == "core, kubeadm bootstrap and control plane, docker infrastructure"
    )
    assert details["apply-cluster"][0].endswith("Cluster API objects in namespace capi-dev")
    assert details["addons"][0].startswith("wave 1: cilium ")
    assert any("hami" in line for line in details["addons"])
    assert details["bootstrap-plane"] == ()


def test_planning_twice_gives_the_same_plan() -> None:
    cluster, cloud = example("aws")
    assert plan_install(cluster, cloud) == plan_install(cluster, cloud)
