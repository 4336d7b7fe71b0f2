"""The local control plane answers, server-side apply behaves, CRDs validate objects."""

from __future__ import annotations

import uuid
from pathlib import Path
from typing import Any

import pytest
from harness.control_plane import ControlPlane
from harness.crds import install_crds, shared_crd, shared_crds
from harness.kube import ApiError, KubeClient

pytestmark = pytest.mark.integration


def _labels() -> dict[str, str]:
    return {"app.kubernetes.io/managed-by": "lattice", "lattice.dev/service": "web"}


def test_control_plane_is_ready(control_plane: ControlPlane, kube: KubeClient) -> None:
    assert kube.get_text("/readyz").strip() == "ok"
    version = kube.request("GET", "/version")
    assert version["gitVersion"].startswith("v1.")
    # The static token works as well as the client certificate.
    me = control_plane.token_client().request(
        "POST",
        "/apis/authentication.k8s.io/v1/selfsubjectreviews",
        {"apiVersion": "authentication.k8s.io/v1", "kind": "SelfSubjectReview"},
    )
    assert "system:masters" in me["status"]["userInfo"]["groups"]
    assert control_plane.started_in < 60


def test_server_side_apply_dry_run_then_real_then_noop(kube: KubeClient) -> None:
    name = f"ssa-{uuid.uuid4().hex[:8]}"
    objects: list[dict[str, Any]] = [
        {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": name, "labels": _labels()}},
        {
            "apiVersion": "v1",
            "kind": "ConfigMap",
            "metadata": {"name": "settings", "namespace": name, "labels": _labels()},
            "data": {"greeting": "hello"},
        },
        {
            "apiVersion": "apps/v1",
            "kind": "Deployment",
            "metadata": {"name": "web", "namespace": name, "labels": _labels()},
            "spec": {
                "replicas": 0,
                "selector": {"matchLabels": {"app": "web"}},
                "template": {
                    "metadata": {"labels": {"app": "web"}},
                    "spec": {"containers": [{"name": "web", "image": "nginx:1.27"}]},
                },
            },
        },
    ]
    try:
        # Dry run: the namespace is admitted but not stored (the namespaced objects would
        # need it to exist, so only the namespace is dry-run first).
        dry = kube.apply(objects[0], dry_run=True)
        assert dry["metadata"]["name"] == name
        assert kube.find("v1", "Namespace", name) is None

        kube.apply(objects[0])
        for obj in objects[1:]:
            kube.apply(obj, dry_run=True)
        assert kube.find("v1", "ConfigMap", "settings", name) is None
        assert kube.find("apps/v1", "Deployment", "web", name) is None

        first = kube.apply_all(objects)
        assert first[1]["data"] == {"greeting": "hello"}

        # Let the deployment controller write its status before comparing versions.
        kube.wait_for(
            lambda: (
                (d := kube.get("apps/v1", "Deployment", "web", name))["status"].get(
                    "observedGeneration"
                )
                == d["metadata"]["generation"]
            ),
            what="the deployment controller to observe web",
        )
        before = [
            kube.get(o["apiVersion"], o["kind"], o["metadata"]["name"], name) for o in objects
        ]
        second = kube.apply_all(objects)
        for old, new in zip(before, second, strict=True):
            assert new["metadata"]["resourceVersion"] == old["metadata"]["resourceVersion"], (
                f"second apply of {new['kind']} changed it"
            )
        managers = {m["manager"] for m in second[1]["metadata"]["managedFields"]}
        assert "lattice-tests" in managers
    finally:
        kube.delete("v1", "Namespace", name)


def test_garbage_collector_deletes_dependents(kube: KubeClient, namespace: str) -> None:
    owner = kube.apply(
        {
            "apiVersion": "v1",
            "kind": "ConfigMap",
            "metadata": {"name": "owner", "namespace": namespace},
        }
    )
    ref = {
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "name": "owner",
        "uid": owner["metadata"]["uid"],
    }
    kube.apply(
        {
            "apiVersion": "v1",
            "kind": "ConfigMap",
            "metadata": {"name": "dependent", "namespace": namespace, "ownerReferences": [ref]},
        }
    )
    kube.delete("v1", "ConfigMap", "owner", namespace)
    kube.wait_gone("v1", "ConfigMap", "dependent", namespace, timeout=30)


def test_third_party_crd_validates_objects(
    kube: KubeClient, namespace: str, crd_schemas: Path
) -> None:
    crd = shared_crd("cilium.io", "ciliumnetworkpolicy", crd_schemas)
    assert crd["spec"]["names"]["kind"] == "CiliumNetworkPolicy"
    assert crd["spec"]["names"]["plural"] == "ciliumnetworkpolicies"
    install_crds(kube, [crd])

    good = {
        "apiVersion": "cilium.io/v2",
        "kind": "CiliumNetworkPolicy",
        "metadata": {"name": "allow-web", "namespace": namespace},
        "spec": {
            "endpointSelector": {"matchLabels": {"app": "web"}},
            "ingress": [{"fromEndpoints": [{"matchLabels": {"app": "client"}}]}],
        },
    }
    kube.apply(good, dry_run=True)
    stored = kube.apply(good)
    assert stored["spec"]["ingress"][0]["fromEndpoints"][0]["matchLabels"] == {"app": "client"}

    bad = {
        **good,
        "metadata": {"name": "broken", "namespace": namespace},
        "spec": {"endpointSelector": {}, "ingress": [{"fromEntities": ["galaxy"]}]},
    }
    for dry_run in (True, False):
        with pytest.raises(ApiError) as error:
            kube.apply(bad, dry_run=dry_run)
        assert error.value.status == 422, error.value
        assert error.value.reason == "Invalid"
        assert "spec.ingress[0].fromEntities[0]" in str(error.value)
    assert kube.find("cilium.io/v2", "CiliumNetworkPolicy", "broken", namespace) is None


def test_second_control_plane_is_independent(
    control_plane: ControlPlane, control_plane_factory: Any
) -> None:
    other: ControlPlane = control_plane_factory("lattice-second", with_controller_manager=False)
    assert other.server != control_plane.server
    name = f"only-here-{uuid.uuid4().hex[:6]}"
    other.client.apply({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": name}})
    assert control_plane.client.find("v1", "Namespace", name) is None
    assert other.client.find("v1", "Namespace", name) is not None
    other.stop()


def test_every_shared_crd_installs(control_plane_factory: Any, crd_schemas: Path) -> None:
    """Each shared schema wraps into a CRD that a real API server accepts and serves."""
    plane: ControlPlane = control_plane_factory("lattice-crds", with_controller_manager=False)
    try:
        crds = shared_crds(directory=crd_schemas)
        assert len(crds) > 100
        install_crds(plane.client, crds, timeout=120)
        served = plane.client.request("GET", "/apis/cilium.io/v2")
        assert any(r["kind"] == "CiliumClusterwideNetworkPolicy" for r in served["resources"])
    finally:
        plane.stop()
