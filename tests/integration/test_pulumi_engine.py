"""The built Pulumi engine runs Python programs through the Automation API.

Inline programs on a file:// backend: a dynamic provider resource (run by the
``pulumi-resource-pulumi-python`` launcher), and Kubernetes objects created in the local
control plane by the built ``pulumi-resource-kubernetes``.
"""

from __future__ import annotations

import json
import uuid
from pathlib import Path

import pulumi
import pytest
from harness.control_plane import ControlPlane
from harness.kube import KubeClient
from harness.programs import LocalFile
from harness.pulumi_engine import PulumiEngine

pytestmark = pytest.mark.integration


def test_cli_version_matches_pin(pulumi_engine: PulumiEngine) -> None:
    command = pulumi_engine.command()
    assert str(command.version) == pulumi_engine.tools["pulumi"].version.lstrip("v")


def test_up_dynamic_provider_on_file_backend(pulumi_engine: PulumiEngine, tmp_path: Path) -> None:
    target = tmp_path / "greeting.txt"

    def program() -> None:
        greeting = LocalFile("greeting", path=str(target), content="hello")
        pulumi.export("size", greeting.size)

    stack = pulumi_engine.stack("smoke", "dev", program, work_dir=tmp_path)
    try:
        up = stack.up()
        assert up.summary.result == "succeeded"
        assert up.outputs["size"].value == 5
        assert target.read_text() == "hello"
        # State went to the file:// backend, not anywhere else.
        assert any(pulumi_engine.state_dir.rglob("dev.json"))

        again = stack.up()
        assert again.summary.resource_changes == {"same": 2}

        stack.destroy()
        assert not target.exists()
    finally:
        stack.workspace.remove_stack("dev")


def test_up_creates_configmap_in_control_plane(
    pulumi_kubernetes_engine: PulumiEngine,
    control_plane: ControlPlane,
    kube: KubeClient,
    tmp_path: Path,
) -> None:
    import pulumi_kubernetes as k8s

    namespace = f"pulumi-{uuid.uuid4().hex[:8]}"

    def program() -> None:
        provider = k8s.Provider(
            "control-plane", kubeconfig=control_plane.kubeconfig, enable_server_side_apply=True
        )
        opts = pulumi.ResourceOptions(provider=provider)
        ns = k8s.core.v1.Namespace(
            "ns", metadata=k8s.meta.v1.ObjectMetaArgs(name=namespace), opts=opts
        )
        k8s.core.v1.ConfigMap(
            "settings",
            metadata=k8s.meta.v1.ObjectMetaArgs(
                name="settings",
                namespace=ns.metadata.name,
                labels={"app.kubernetes.io/managed-by": "lattice"},
            ),
            data={"greeting": "hello"},
            opts=opts,
        )

    stack = pulumi_kubernetes_engine.stack("k8s-smoke", "dev", program, work_dir=tmp_path)
    try:
        up = stack.up()
        assert up.summary.result == "succeeded", json.dumps(up.summary.resource_changes)
        created = kube.get("v1", "ConfigMap", "settings", namespace)
        assert created["data"] == {"greeting": "hello"}
        assert created["metadata"]["labels"]["app.kubernetes.io/managed-by"] == "lattice"

        stack.destroy()
        assert kube.find("v1", "ConfigMap", "settings", namespace) is None
    finally:
        stack.workspace.remove_stack("dev")
        kube.delete("v1", "Namespace", namespace)
