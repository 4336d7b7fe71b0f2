"""``pulumi up`` from a shell, as a user types it, against a real control plane.

Each test runs the built ``pulumi`` CLI in a project folder (the Python language host runs
the program, ``pulumi-resource-kubernetes`` applies it) with the target kubeconfig passed as
stack config, then checks the cluster with the harness client: every object the stack
manages exists, a preview afterwards changes nothing, ``destroy`` removes them. Workloads
cannot become ready here (no kubelet or scheduler), so the programs' ``skipAwait`` config is
set. One control plane serves the module (with the garbage collector: deletes cascade).
"""

from __future__ import annotations

import base64
import json
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from harness.control_plane import ControlPlane
from harness.crds import install_crds, shared_crd
from harness.kube import KubeClient
from harness.pulumi_engine import PulumiEngine
from harness.pulumi_shell import (
    UNCHANGED_OPS,
    ObjectId,
    PulumiShell,
    change_summary,
    changed_steps,
    managed_objects,
    open_stack,
)

from tests.conftest import EXAMPLES, ROOT

pytestmark = pytest.mark.integration

WEBAPP_CRDS = [
    ("cilium.io", "CiliumNetworkPolicy"),
    ("security.istio.io", "AuthorizationPolicy"),
    ("security.istio.io", "PeerAuthentication"),
    ("external-secrets.io", "ExternalSecret"),
    ("keda.sh", "ScaledObject"),
    ("gateway.networking.k8s.io", "Gateway"),
    ("gateway.networking.k8s.io", "HTTPRoute"),
    ("cert-manager.io", "Certificate"),
]
SHOP = "shop"
TOKEN = "tok-6f1d0c2e-never-in-state"


@pytest.fixture(scope="module")
def plane(control_plane_factory: Callable[..., ControlPlane], crd_schemas: Path) -> ControlPlane:
    """A control plane of this module's own, with the CRDs the example services use."""
    control_plane = control_plane_factory("pulumi-shell")
    install_crds(control_plane.client, [shared_crd(g, k, crd_schemas) for g, k in WEBAPP_CRDS])
    for name in ("webapp", SHOP):
        control_plane.client.apply(
            {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": name}}
        )
    return control_plane


@pytest.fixture
def stack_of(
    pulumi_shell_engine: PulumiEngine, tmp_path: Path
) -> Iterator[Callable[[Path], PulumiShell]]:
    """``stack_of(project_dir)``: a new stack ``it`` of that project; removed afterwards."""
    opened: list[PulumiShell] = []

    def open_in(project_dir: Path) -> PulumiShell:
        shell = open_stack(pulumi_shell_engine, project_dir, "it", tmp_path / "config")
        opened.append(shell)
        return shell

    yield open_in
    for shell in opened:
        shell.remove()


def _exists(kube: KubeClient, obj: ObjectId) -> bool:
    api_version, kind, namespace, name = obj
    return kube.find(api_version, kind, name, namespace or None) is not None


def _assert_all_exist(kube: KubeClient, objects: list[ObjectId]) -> None:
    missing = [o for o in objects if not _exists(kube, o)]
    assert missing == [], f"managed by the stack but not in the cluster: {missing}"


def _assert_all_gone(kube: KubeClient, objects: list[ObjectId]) -> None:
    for obj in objects:
        kube.wait_for(lambda obj=obj: not _exists(kube, obj), timeout=60, what=f"{obj} gone")


def _assert_no_changes(shell: PulumiShell) -> None:
    preview = shell.preview_json()
    assert changed_steps(preview) == [], json.dumps(change_summary(preview))
    assert set(change_summary(preview)) <= UNCHANGED_OPS


def _secret_value(kube: KubeClient, name: str, key: str) -> str:
    data = kube.get("v1", "Secret", name, SHOP)["data"]
    return base64.b64decode(data[key]).decode()


def test_root_program_up_preview_destroy(
    plane: ControlPlane, stack_of: Callable[[Path], PulumiShell]
) -> None:
    shell = stack_of(ROOT)
    shell.config_set("lattice-webapp:kubeconfig", str(plane.kubeconfig_path))
    shell.config_set("lattice-webapp:skipAwait", "true")

    shell.up()
    objects = managed_objects(shell.export())
    compiled = [name for names in shell.outputs()["objects"].values() for name in names]
    assert len(objects) == len(compiled) > 20
    assert {("apps/v1", "Deployment", "webapp", n) for n in ("api", "frontend", "worker")} <= set(
        objects
    )
    _assert_all_exist(plane.client, objects)

    _assert_no_changes(shell)

    shell.destroy()
    _assert_all_gone(plane.client, objects)
    assert managed_objects(shell.export()) == []


def test_python_program_outputs_secrets_and_a_config_change(
    plane: ControlPlane, stack_of: Callable[[Path], PulumiShell]
) -> None:
    kube = plane.client
    shell = stack_of(EXAMPLES / "python-program")
    shell.config_set("lattice-python-program:kubeconfig", str(plane.kubeconfig_path))
    shell.config_set("lattice-python-program:skipAwait", "true")
    shell.config_set("lattice-python-program:workers", "2")
    shell.config_set("lattice-python-program:apiToken", TOKEN, secret=True)

    up = shell.up()
    assert TOKEN not in up.stdout + up.stderr
    objects = managed_objects(shell.export())
    _assert_all_exist(kube, objects)
    api_url = f"http://api.{SHOP}.svc.cluster.local:8080"
    assert shell.outputs()["apiUrl"] == api_url
    # The api's url Output flowed into the frontend's and the workers' environment.
    assert _secret_value(kube, "frontend-main-input-env", "API_URL") == api_url
    assert _secret_value(kube, "worker-1-main-input-env", "API_URL") == api_url
    # The secret reached the cluster, and the state holds it only as ciphertext.
    assert _secret_value(kube, "api-main-input-env", "API_TOKEN") == TOKEN
    state = json.dumps(shell.export())
    assert TOKEN not in state
    assert "ciphertext" in state
    assert TOKEN not in shell.config_file.read_text()

    _assert_no_changes(shell)

    shell.config_set("lattice-python-program:apiReplicas", "3")
    preview = shell.preview_json()
    steps = changed_steps(preview)
    assert [op for op, _ in steps] == ["update"], steps
    assert steps[0][1].endswith("$kubernetes:apps/v1:Deployment::api-api"), steps
    shell.up()
    assert kube.get("apps/v1", "Deployment", "api", SHOP)["spec"]["replicas"] == 3

    shell.destroy()
    _assert_all_gone(kube, objects)


CAPI_CRDS = [
    ("cluster.x-k8s.io", "Cluster"),
    ("cluster.x-k8s.io", "MachineDeployment"),
    ("cluster.x-k8s.io", "MachineHealthCheck"),
    ("controlplane.cluster.x-k8s.io", "KubeadmControlPlane"),
    ("bootstrap.cluster.x-k8s.io", "KubeadmConfigTemplate"),
    ("infrastructure.cluster.x-k8s.io", "DockerCluster"),
    ("infrastructure.cluster.x-k8s.io", "DockerMachineTemplate"),
    # The new cluster's baseline (here the same control plane stands for the new cluster).
    ("cilium.io", "CiliumClusterwideNetworkPolicy"),
]
CLUSTER = ("cluster.x-k8s.io/v1beta2", "Cluster", "dev", "capi-dev")


def _provision_like_cluster_api(kube: KubeClient, kubeconfig: str) -> None:
    """What the Cluster API controllers would do once the machines are up (none run here:
    no Docker for CAPD): write the new cluster's kubeconfig Secret (pointing at
    ``kubeconfig``, this control plane), then mark the Cluster provisioned and initialised."""
    api_version, kind, name, namespace = CLUSTER
    kube.wait_for(lambda: kube.find(api_version, kind, name, namespace), timeout=300, what=name)
    # The kubeconfig Secret first: KCP writes it before the control plane is initialised.
    value = base64.b64encode(kubeconfig.encode()).decode()
    kube.apply(
        {
            "apiVersion": "v1",
            "kind": "Secret",
            "metadata": {"name": f"{name}-kubeconfig", "namespace": namespace},
            "type": "cluster.x-k8s.io/secret",
            "data": {"value": value},
        }
    )
    now = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    status = {
        "phase": "Provisioned",
        "initialization": {"controlPlaneInitialized": True, "infrastructureProvisioned": True},
        "conditions": [
            {
                "type": "ControlPlaneInitialized",
                "status": "True",
                "reason": "Initialized",
                "message": "",
                "lastTransitionTime": now,
            }
        ],
    }
    kube.request(
        "PATCH",
        kube.path(api_version, kind, name, namespace) + "/status",
        {"status": status},
        content_type="application/merge-patch+json",
    )


def test_cluster_program_registers_cluster_api_objects_and_refresh_sees_drift(
    plane: ControlPlane, stack_of: Callable[[Path], PulumiShell], crd_schemas: Path
) -> None:
    kube = plane.client
    install_crds(kube, [shared_crd(g, k, crd_schemas) for g, k in CAPI_CRDS])
    shell = stack_of(EXAMPLES / "cluster-program")
    shell.config_set("lattice-cluster-program:kubeconfig", str(plane.kubeconfig_path))

    running = shell.start("up", "--yes", "--skip-preview")
    try:
        _provision_like_cluster_api(kube, plane.kubeconfig)
    finally:
        up = shell.wait(running, check=False)
    assert up.returncode == 0, up.stdout + up.stderr
    outputs = shell.outputs()
    assert outputs["kubeconfig"] == "[secret]"
    assert outputs["endpoint"] == plane.server
    for entry in outputs["objectNames"]:
        kind, namespace, name = entry.split("/")
        found = [o for o in managed_objects(shell.export()) if o[1:] == (kind, namespace, name)]
        assert len(found) == 1 and _exists(kube, found[0]), entry
    # Through the provider built from that kubeconfig: the Lattice CRDs in the new cluster.
    crd = kube.get(
        "apiextensions.k8s.io/v1", "CustomResourceDefinition", "latticeservices.lattice.dev"
    )
    assert crd["spec"]["group"] == "lattice.dev"

    _assert_no_changes(shell)

    deployment = kube.path(
        "cluster.x-k8s.io/v1beta2", "MachineDeployment", "dev-default", "capi-dev"
    )
    kube.request(
        "PATCH", deployment, {"spec": {"replicas": 5}}, content_type="application/merge-patch+json"
    )
    drift = shell.refresh_preview_json()
    drifted = [s for s in drift["steps"] if s["op"] not in UNCHANGED_OPS]
    assert [(s["op"], s["urn"].rsplit("$", 1)[-1]) for s in drifted] == [
        ("update", "kubernetes:cluster.x-k8s.io/v1beta2:MachineDeployment::docker-dev-dev-default")
    ]
    assert set(drifted[0]["detailedDiff"]) == {"spec.replicas"}
    shell.run("refresh", "--yes", "--skip-preview")
    recorded = [
        r["outputs"]["spec"]["replicas"]
        for r in shell.export()["deployment"]["resources"]
        if r["urn"].endswith("MachineDeployment::docker-dev-dev-default")
    ]
    assert recorded == [5]

    shell.destroy()
    assert kube.find(*CLUSTER[:2], CLUSTER[2], CLUSTER[3]) is None


def _shop_objects(shell: PulumiShell) -> set[ObjectId]:
    return set(managed_objects(shell.export()))


def test_yaml_program_creates_what_the_python_program_creates(
    plane: ControlPlane, stack_of: Callable[[Path], PulumiShell]
) -> None:
    kube = plane.client
    python = stack_of(EXAMPLES / "python-program")
    python.config_set("lattice-python-program:kubeconfig", str(plane.kubeconfig_path))
    python.config_set("lattice-python-program:skipAwait", "true")
    python.config_set("lattice-python-program:workers", "2")
    python.up()
    from_python = _shop_objects(python)
    python.destroy()
    _assert_all_gone(kube, sorted(from_python))

    yaml = stack_of(EXAMPLES / "yaml-program")
    yaml.config_set("lattice-yaml-program:kubeconfig", str(plane.kubeconfig_path))
    yaml.config_set("lattice-yaml-program:skipAwait", "true")
    yaml.up()
    from_yaml = _shop_objects(yaml)
    assert from_yaml == from_python
    _assert_all_exist(kube, sorted(from_yaml))
    api_url = f"http://api.{SHOP}.svc.cluster.local:8080"
    assert yaml.outputs()["apiUrl"] == api_url
    assert _secret_value(kube, "frontend-main-input-env", "API_URL") == api_url
    _assert_no_changes(yaml)
    yaml.destroy()
    _assert_all_gone(kube, sorted(from_yaml))


BAD_YAML_PROGRAM = """\
name: lattice-bad-spec
runtime: yaml
packages:
  lattice: {plugin}
resources:
  shop:
    type: pulumi:providers:kubernetes
    properties:
      kubeconfig: {kubeconfig}
  api:
    type: lattice:index:LatticeService
    properties:
      namespace: shop
      spec:
        replicas: many
        containers:
          main:
            image: ghcr.io/example/shop-api:1.0
    options:
      providers:
        - ${{shop}}
"""


def test_yaml_program_with_a_bad_spec_fails_with_our_error(
    plane: ControlPlane, stack_of: Callable[[Path], PulumiShell], tmp_path: Path
) -> None:
    project = tmp_path / "bad-spec"
    project.mkdir()
    (project / "Pulumi.yaml").write_text(
        BAD_YAML_PROGRAM.format(
            plugin=ROOT / "components" / "bin", kubeconfig=plane.kubeconfig_path
        )
    )
    shell = stack_of(project)
    failed = shell.run("up", "--yes", "--skip-preview", check=False)
    output = failed.stdout + failed.stderr
    assert failed.returncode != 0
    expected = "<api> spec.replicas: expected a valid integer"
    assert expected in output, output
    assert "got 'many'" in output
    assert "Traceback" not in output, output
    assert plane.client.find("apps/v1", "Deployment", "api", SHOP) is None
