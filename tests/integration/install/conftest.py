"""Two control planes for ``lattice install``: the bootstrap (management) plane with the
real Cluster API core manager, and the "new cluster" the providers would have built.

``provider_components`` is the folder ``--provider-components`` takes: the manager's own
CRDs and the kubeadm, Docker and Helm add-on providers' CRDs (from the fetched schemas),
labelled as the providers' release manifests label them (``cluster.x-k8s.io/provider``,
the contract label the core controllers read to pick a version; so the pivot meets a
labelled cluster-scoped kind, ExtensionConfig, as it would in a real install). No provider
Deployment is in it: no pod can run here (no kubelet); the core manager runs as a process instead.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from harness.capi_manager import (
    manager_crds,
    register_defaulting_webhooks,
    start_capi_manager,
)
from harness.control_plane import ControlPlane
from harness.crds import shared_crd
from harness.tools import require_tools
from install_support import InstallPlanes

from lattice_pulumi.spec import yamlout

PROVIDER_KINDS = {
    "bootstrap-kubeadm": [
        ("bootstrap.cluster.x-k8s.io", "KubeadmConfig"),
        ("bootstrap.cluster.x-k8s.io", "KubeadmConfigTemplate"),
    ],
    "control-plane-kubeadm": [("controlplane.cluster.x-k8s.io", "KubeadmControlPlane")],
    "infrastructure-docker": [
        ("infrastructure.cluster.x-k8s.io", "DockerCluster"),
        ("infrastructure.cluster.x-k8s.io", "DockerMachine"),
        ("infrastructure.cluster.x-k8s.io", "DockerMachineTemplate"),
    ],
    "addon-helm": [
        ("addons.cluster.x-k8s.io", "HelmChartProxy"),
        ("addons.cluster.x-k8s.io", "HelmReleaseProxy"),
    ],
}


def _labelled(crd: dict[str, Any], provider: str, contract: bool) -> dict[str, Any]:
    labels = crd["metadata"].setdefault("labels", {})
    labels["cluster.x-k8s.io/provider"] = provider
    labels["clusterctl.cluster.x-k8s.io"] = ""
    if contract:
        labels["cluster.x-k8s.io/v1beta2"] = "v1beta2"
    return crd


def write_components(folder: Path) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    tool = require_tools("cluster-api-manager")["cluster-api-manager"]
    core = [_labelled(crd, "cluster-api", False) for crd in manager_crds(tool)]
    (folder / "core-components.yaml").write_text(yamlout.dump_all(core))
    for provider, kinds in PROVIDER_KINDS.items():
        crds = [_labelled(shared_crd(g, k), provider, provider != "addon-helm") for g, k in kinds]
        (folder / f"{provider}-components.yaml").write_text(yamlout.dump_all(crds))
    return folder


@pytest.fixture
def install_planes(
    control_plane_factory: Callable[..., ControlPlane],
    tmp_path: Path,
    crd_schemas: Path,
) -> Iterator[InstallPlanes]:
    bootstrap = control_plane_factory("bootstrap")
    workload = control_plane_factory("workload")
    manager = start_capi_manager(bootstrap, tmp_path / "manager")
    register_defaulting_webhooks(bootstrap, manager)  # a MachineDeployment's rollout strategy
    try:
        yield InstallPlanes(bootstrap, workload, manager, write_components(tmp_path / "components"))
    finally:
        manager.stop()
        bootstrap.stop()
        workload.stop()
