"""``lattice up`` with the real engine against the real API server: the web application.

Every object lands, a second preview changes nothing, destroy removes everything. Workloads
cannot become ready here (no kubelet or scheduler), so ``--skip-await`` is used: the test
is about what is applied, not about pods running.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import typer
from harness.control_plane import ControlPlane
from harness.crds import install_crds, shared_crd
from harness.kube import ApiError, KubeClient
from harness.pulumi_engine import PulumiEngine
from typer.testing import CliRunner

from lattice_pulumi.cli import stacks
from tests.conftest import EXAMPLES

pytestmark = pytest.mark.integration

runner = CliRunner()
app = typer.Typer(pretty_exceptions_enable=False)
stacks.register(app)

THIRD_PARTY = [
    ("cilium.io", "CiliumNetworkPolicy"),
    ("security.istio.io", "AuthorizationPolicy"),
    ("security.istio.io", "PeerAuthentication"),
    ("external-secrets.io", "ExternalSecret"),
    ("keda.sh", "ScaledObject"),
    ("gateway.networking.k8s.io", "Gateway"),
    ("gateway.networking.k8s.io", "HTTPRoute"),
    ("cert-manager.io", "Certificate"),
]


def _exists(kube: KubeClient, name: str) -> bool:
    try:
        kube.get("apps/v1", "Deployment", name, "webapp")
    except ApiError as error:
        if error.status == 404:
            return False
        raise
    return True


def test_up_preview_destroy_against_the_control_plane(
    control_plane_factory: Callable[..., ControlPlane],
    pulumi_kubernetes_engine: PulumiEngine,
    crd_schemas: Any,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # A control plane of its own: other tests apply the same objects with another manager.
    control_plane = control_plane_factory("lattice-up")  # GC: deletes are foreground
    kube = control_plane.client
    install_crds(kube, [shared_crd(group, kind) for group, kind in THIRD_PARTY])
    kube.apply({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "webapp"}})
    monkeypatch.setenv("LATTICE_STATE_DIR", str(tmp_path / "state"))
    files = ["-f", str(EXAMPLES / "webapp"), "-f", str(EXAMPLES / "policies")]
    target = ["--kubeconfig", str(control_plane.kubeconfig_path), "--stack", "it"]

    result = runner.invoke(app, ["up", *files, *target, "--skip-await"])
    assert result.exit_code == 0, result.output
    for name in ("frontend", "api", "postgres", "redis", "worker"):
        assert _exists(kube, name)
    secret = kube.get("external-secrets.io/v1", "ExternalSecret", "api-db-credentials", "webapp")
    assert secret["spec"]["secretStoreRef"]["name"] == "lattice-secrets"
    policy = kube.get("cilium.io/v2", "CiliumNetworkPolicy", "api-mesh", "webapp")
    assert policy["metadata"]["labels"]["app.kubernetes.io/managed-by"] == "lattice"

    again = runner.invoke(app, ["preview", *files, *target, "--skip-await"])
    assert again.exit_code == 0, again.output
    assert "preview: same" in again.stderr, again.stderr

    gone = runner.invoke(app, ["destroy", "--stack", "it"])
    assert gone.exit_code == 0, gone.output
    for name in ("frontend", "api", "postgres", "redis", "worker"):
        kube.wait_for(lambda name=name: not _exists(kube, name), timeout=60, what=f"{name} gone")
