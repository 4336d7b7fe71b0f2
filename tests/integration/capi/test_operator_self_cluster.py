"""The operator keeps its own cluster's Cluster API objects converged to its LatticeCluster.

Real parts: a control plane with the real Cluster API core manager v1.14.2 (so
MachineDeployment -> MachineSet -> Machine, node references, drains, deletions and the
health-check controller are the real controllers'), and the real ``lattice operator run``
process, started with ``--cluster test``: the LatticeCluster ``test`` is itself. The
cluster is self-managed as after a pivot: its Cluster API objects (compiled by
``compile_cluster`` from the LatticeCluster) live in ``capi-test`` on the same API server,
and the ``test-kubeconfig`` Secret points back at that API server, so Machines find their
Nodes there.

No control-plane, bootstrap or infrastructure provider controller can run here (they need
real machines): their CRDs are installed from the fetched upstream CRDs, and
``tests/fakes/capi_providers.FakeCapiProviders`` plays KubeadmControlPlane (its
``status.version`` follows ``spec.version`` two seconds after a change), CAPD, the kubeadm
bootstrap provider and the kubelets that would register Nodes.
"""

from __future__ import annotations

import copy
import json
import time
import urllib.parse
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from harness.capi_manager import CapiManager
from harness.control_plane import ControlPlane
from harness.crds import fetched_schemas_dir, install_crds
from harness.operator import OperatorProcess, install_operator_crds

from lattice_pulumi.compile.cluster import compile_cluster
from lattice_pulumi.compile.cluster.context import ClusterCompileContext
from lattice_pulumi.spec.cluster import LatticeCluster
from lattice_pulumi.spec.providers import CloudProvider
from tests.fakes.capi_providers import FakeCapiProviders

pytestmark = pytest.mark.integration

NAME, NAMESPACE = "test", "capi-test"
CORE = "cluster.x-k8s.io/v1beta2"
KCP = "controlplane.cluster.x-k8s.io/v1beta2"
LATTICE = "lattice.dev/v1alpha1"
# What the MachineDeployment defaulting webhook sets when no strategy is given.
ROLLING_UPDATE = {"type": "RollingUpdate", "rollingUpdate": {"maxSurge": 1, "maxUnavailable": 0}}
PROVIDER_CRDS = (
    "controlplane.cluster.x-k8s.io_kubeadmcontrolplanes",
    "bootstrap.cluster.x-k8s.io_kubeadmconfigs",
    "bootstrap.cluster.x-k8s.io_kubeadmconfigtemplates",
    "infrastructure.cluster.x-k8s.io_dockerclusters",
    "infrastructure.cluster.x-k8s.io_dockermachines",
    "infrastructure.cluster.x-k8s.io_dockermachinetemplates",
)


def _provider_crds() -> list[dict[str, Any]]:
    """The providers' real CRDs, labelled with the contract as their kustomizations do."""
    crds = []
    for stem in PROVIDER_CRDS:
        path = fetched_schemas_dir() / "crds" / f"{stem}.json"
        if not path.is_file():
            pytest.skip(f"{path} is missing: run scripts/fetch-crds")
        crd = json.loads(path.read_text())
        crd["metadata"].setdefault("labels", {})["cluster.x-k8s.io/v1beta2"] = "v1beta2"
        crd["spec"].pop("conversion", None)  # no conversion webhook runs; v1beta2 is stored
        crds.append(crd)
    return crds


def _lattice_cluster(version: str, replicas: int) -> dict[str, Any]:
    return {
        "apiVersion": LATTICE,
        "kind": "LatticeCluster",
        "metadata": {"name": NAME},
        "spec": {
            "providerRef": "docker",
            "provider": {"kubernetes": {"version": version}, "config": {"docker": {}}},
            "nodes": {
                "controlPlane": {"replicas": 1},
                "workerPools": {"general": {"replicas": replicas}},
            },
            "monitoring": {"enabled": False},
        },
    }


def _cloud() -> CloudProvider:
    return CloudProvider.model_validate(
        {
            "apiVersion": LATTICE,
            "kind": "CloudProvider",
            "metadata": {"name": "docker", "namespace": "lattice-system"},
            "spec": {"type": "docker"},
        }
    )


def _kubeconfig_secret(plane: ControlPlane) -> dict[str, Any]:
    return {
        "apiVersion": "v1",
        "kind": "Secret",
        "type": "cluster.x-k8s.io/secret",
        "metadata": {
            "name": f"{NAME}-kubeconfig",
            "namespace": NAMESPACE,
            "labels": {"cluster.x-k8s.io/cluster-name": NAME},
        },
        "stringData": {"value": plane.kubeconfig},
    }


@pytest.fixture(scope="module")
def self_cluster(
    capi_plane: tuple[ControlPlane, CapiManager], tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[ControlPlane, CapiManager, OperatorProcess]]:
    plane, manager = capi_plane
    install_crds(plane.client, _provider_crds())
    install_operator_crds(plane.client)
    spec = _lattice_cluster("1.32.0", 2)
    model = LatticeCluster.model_validate(spec)
    objects = compile_cluster(model, _cloud(), ClusterCompileContext())
    for obj in objects:
        if obj["kind"] == "MachineDeployment":  # the defaulting webhook is not registered here:
            obj["spec"]["rollout"] = {"strategy": dict(ROLLING_UPDATE)}  # write its default
    plane.client.apply(objects[0])  # the namespace first
    plane.client.apply(_kubeconfig_secret(plane))
    plane.client.apply_all(objects[1:])
    plane.client.apply(spec)
    server = urllib.parse.urlsplit(plane.server)
    providers = FakeCapiProviders(
        plane.client, NAMESPACE, (server.hostname or "", server.port or 443)
    )
    providers.start()
    PROVIDERS.append(providers)
    log: Path = tmp_path_factory.mktemp("self-operator") / "operator.log"
    operator = OperatorProcess(plane, log, extra_args=("--cluster-resync", "1"))
    operator.start()
    try:
        yield plane, manager, operator
    finally:
        operator.stop()
        providers.stop()


def _get(plane: ControlPlane, api: str, kind: str, name: str) -> dict[str, Any]:
    return dict(plane.client.get(api, kind, name, None if kind == "LatticeCluster" else NAMESPACE))


def _status(plane: ControlPlane) -> dict[str, Any]:
    return _get(plane, LATTICE, "LatticeCluster", NAME).get("status") or {}


def _machines(plane: ControlPlane) -> list[dict[str, Any]]:
    return plane.client.list(CORE, "Machine", NAMESPACE, "lattice.dev/pool=general")


def _update_spec(plane: ControlPlane, change: dict[str, Any]) -> None:
    path = plane.client.path(LATTICE, "LatticeCluster", NAME)
    plane.client.request(
        "PATCH", path, {"spec": change}, content_type="application/merge-patch+json"
    )


PROVIDERS: list[FakeCapiProviders] = []


def _wait(
    check: Callable[[], Any],
    timeout: float,
    what: str,
    manager: CapiManager,
    operator: OperatorProcess,
) -> None:
    """Poll ``check``; on timeout say ``what`` with the logs and state of that moment."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if check():
            return
        time.sleep(0.2)
    raise AssertionError(
        f"timed out after {timeout}s waiting for {what}; {_logs(manager, operator)}"
    )


def _logs(manager: CapiManager, operator: OperatorProcess) -> str:
    played = PROVIDERS[-1].errors[-5:] if PROVIDERS else []
    plane = operator.plane
    machines = [
        (m["metadata"]["name"], m["spec"].get("version"), (m.get("status") or {}).get("nodeRef"))
        for m in _machines(plane)
    ]
    return (
        f"operator log:\n{operator.log_tail(30)}\nmanager log:\n{manager.log_tail(10)}\n"
        f"fake providers' last errors: {played}\nmachines: {machines}\n"
        f"status: {json.dumps(_status(plane))}"
    )


def _pool_settled(plane: ControlPlane, replicas: int, version: str) -> bool:
    machines = [m for m in _machines(plane) if not m["metadata"].get("deletionTimestamp")]
    pools = _status(plane).get("pools") or [{}]
    return (
        len(machines) == replicas
        and all(
            m["spec"]["version"] == version and (m.get("status") or {}).get("nodeRef")
            for m in machines
        )
        and pools[0].get("ready") == replicas == pools[0].get("desired")
    )


def test_the_pools_start_as_the_spec_says_and_status_counts_them(
    self_cluster: tuple[ControlPlane, CapiManager, OperatorProcess],
) -> None:
    plane, manager, operator = self_cluster
    _wait(
        lambda: _pool_settled(plane, 2, "v1.32.0") and _status(plane).get("phase") == "Ready",
        120,
        "2 ready machines and phase Ready",
        manager,
        operator,
    )
    status = _status(plane)
    assert status["controlPlane"] == {"ready": 1, "desired": 1}
    assert status["workers"] == {"ready": 2, "desired": 2}
    assert status["kubernetesVersion"] == "1.32.0"
    assert status["versionRollout"]["stage"] == "Done"
    nodes = plane.client.list("v1", "Node", label_selector="lattice.dev/pool=general")
    assert {n["metadata"]["name"] for n in nodes} == {
        m["metadata"]["name"] for m in _machines(plane)
    }


def test_a_pool_scaled_in_the_spec_becomes_machines_of_the_real_machine_set(
    self_cluster: tuple[ControlPlane, CapiManager, OperatorProcess],
) -> None:
    plane, manager, operator = self_cluster
    _update_spec(plane, {"nodes": {"workerPools": {"general": {"replicas": 3}}}})
    _wait(
        lambda: _pool_settled(plane, 3, "v1.32.0"),
        120,
        "3 machines with nodes",
        manager,
        operator,
    )
    deployment = _get(plane, CORE, "MachineDeployment", f"{NAME}-general")
    assert deployment["spec"]["replicas"] == 3
    machine_sets = plane.client.list(CORE, "MachineSet", NAMESPACE, "lattice.dev/pool=general")
    owners = {ref["name"] for m in _machines(plane) for ref in m["metadata"]["ownerReferences"]}
    assert owners == {s["metadata"]["name"] for s in machine_sets}  # the real MachineSet made them
    status = _status(plane)
    assert status["workers"] == {"ready": 3, "desired": 3}
    assert status["readyWorkers"] == 3


def _versions(plane: ControlPlane) -> tuple[str, str]:
    plane_version = _get(plane, KCP, "KubeadmControlPlane", f"{NAME}-control-plane")["spec"][
        "version"
    ]
    pool = _get(plane, CORE, "MachineDeployment", f"{NAME}-general")
    return plane_version, pool["spec"]["template"]["spec"]["version"]


def _revision(plane: ControlPlane) -> str:
    """The API server's current resourceVersion (a list's: etcd's revision, global order)."""
    path = plane.client.path(CORE, "MachineDeployment", namespace=NAMESPACE)
    return str(plane.client.request("GET", path)["metadata"]["resourceVersion"])


def _version_history(
    plane: ControlPlane, since: str, start: tuple[str, str]
) -> list[tuple[str, str]]:
    """Every (control plane, pool) version pair from ``start``, the pair at ``since``, in order.

    Replayed from the API server's watch (events after a resourceVersion, both objects
    merged by their resourceVersions, which etcd orders globally), so a state that lasted
    less than a poll is still seen: sampling missed the pools' 1.33 on a loaded machine."""
    changes: list[tuple[int, int, str]] = []
    watched = (
        (KCP, "KubeadmControlPlane", f"{NAME}-control-plane", ("spec", "version")),
        (CORE, "MachineDeployment", f"{NAME}-general", ("spec", "template", "spec", "version")),
    )
    for side, (api, kind, name, field) in enumerate(watched):
        params = {
            "watch": "true",
            "resourceVersion": since,
            "fieldSelector": f"metadata.name={name}",
            "timeoutSeconds": "1",
        }
        path = plane.client.path(api, kind, namespace=NAMESPACE)
        text = plane.client.request("GET", path, params=params)
        lines = [json.dumps(text)] if isinstance(text, dict) else str(text or "").splitlines()
        for line in filter(None, lines):
            obj = json.loads(line)["object"]
            value: Any = obj
            for key in field:
                value = value[key]
            changes.append((int(obj["metadata"]["resourceVersion"]), side, str(value)))
    history = [start]
    for _, side, version in sorted(changes):
        pair = (version, history[-1][1]) if side == 0 else (history[-1][0], version)
        if pair != history[-1]:
            history.append(pair)
    return history


def test_an_upgrade_goes_control_plane_then_pools_one_minor_at_a_time(
    self_cluster: tuple[ControlPlane, CapiManager, OperatorProcess],
) -> None:
    plane, manager, operator = self_cluster
    start, since = _versions(plane), _revision(plane)
    _update_spec(plane, {"provider": {"kubernetes": {"version": "1.34.0"}}})
    deadline = time.monotonic() + 300
    while not (
        _versions(plane) == ("v1.34.0", "v1.34.0")
        and _pool_settled(plane, 3, "v1.34.0")
        and _status(plane).get("versionRollout", {}).get("stage") == "Done"
    ):
        assert time.monotonic() < deadline, (
            f"upgrade stuck at {_versions(plane)}; {_logs(manager, operator)}"
        )
        time.sleep(0.5)
    assert _version_history(plane, since, start) == [
        ("v1.32.0", "v1.32.0"),
        ("v1.33.0", "v1.32.0"),  # control plane to the next minor first
        ("v1.33.0", "v1.33.0"),  # pools once it runs 1.33 everywhere
        ("v1.34.0", "v1.33.0"),  # then the next minor, after the pools' machines rolled
        ("v1.34.0", "v1.34.0"),
    ]
    status = _status(plane)
    assert status["kubernetesVersion"] == "1.34.0"
    assert status["versionRollout"] == {
        "target": "1.34.0",
        "current": "1.34.0",
        "step": "1.34.0",
        "stage": "Done",
    }


def test_a_downgrade_is_refused_with_a_condition(
    self_cluster: tuple[ControlPlane, CapiManager, OperatorProcess],
) -> None:
    plane, manager, operator = self_cluster
    _update_spec(plane, {"provider": {"kubernetes": {"version": "1.33.0"}}})

    def refused() -> bool:
        conditions = {c["type"]: c for c in _status(plane).get("conditions", [])}
        return conditions.get("VersionUpgraded", {}).get("reason") == "DowngradeRefused"

    _wait(refused, 60, "DowngradeRefused", manager, operator)
    assert _versions(plane) == ("v1.34.0", "v1.34.0")
    _update_spec(plane, {"provider": {"kubernetes": {"version": "1.34.0"}}})


def test_a_deleted_or_edited_health_check_comes_back(
    self_cluster: tuple[ControlPlane, CapiManager, OperatorProcess],
) -> None:
    plane, manager, operator = self_cluster
    name = f"{NAME}-general"
    original = _get(plane, CORE, "MachineHealthCheck", name)
    assert plane.client.delete(CORE, "MachineHealthCheck", name, NAMESPACE)
    _wait(
        lambda: plane.client.find(CORE, "MachineHealthCheck", name, NAMESPACE) is not None,
        60,
        "the MachineHealthCheck back",
        manager,
        operator,
    )
    back = _get(plane, CORE, "MachineHealthCheck", name)
    assert back["metadata"]["uid"] != original["metadata"]["uid"]
    assert back["spec"]["checks"] == original["spec"]["checks"]

    edited = copy.deepcopy(back["spec"]["checks"])
    edited["nodeStartupTimeoutSeconds"] = 30
    path = plane.client.path(CORE, "MachineHealthCheck", name, NAMESPACE)
    plane.client.request(
        "PATCH", path, {"spec": {"checks": edited}}, content_type="application/merge-patch+json"
    )
    _wait(
        lambda: (
            _get(plane, CORE, "MachineHealthCheck", name)["spec"]["checks"]
            == original["spec"]["checks"]
        ),
        60,
        "the edit undone",
        manager,
        operator,
    )
