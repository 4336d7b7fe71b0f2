"""The cluster baseline: default deny in both layers, system namespaces exempt."""

from __future__ import annotations

import pytest

from lattice_pulumi.compile.context import ClusterInfo
from lattice_pulumi.compile.mesh import MeshMode, compile_mesh_baseline
from tests.manifests import assert_valid
from tests.unit.compile.mesh.simulator import Cluster, Pod

BASELINE = compile_mesh_baseline(ClusterInfo(name="prod"))


def _pod(namespace: str, app: str) -> Pod:
    return Pod(namespace, {"app": app}, app)


@pytest.mark.parametrize("mode", list(MeshMode), ids=lambda m: m.value)
def test_baseline_objects_are_valid_and_labelled(mode: MeshMode) -> None:
    objects = compile_mesh_baseline(ClusterInfo(name="prod"), mode)
    assert_valid(objects)
    for obj in objects:
        assert obj["metadata"]["labels"] == {
            "app.kubernetes.io/managed-by": "lattice",
            "lattice.dev/cluster": "prod",
        }


def test_unmanaged_pods_are_denied_in_both_layers() -> None:
    cluster = Cluster(BASELINE, ambient=False)
    a, b = _pod("shop", "a"), _pod("shop", "b")
    assert not cluster.cilium_allows(a, b, 80, "TCP", "egress")
    assert not cluster.cilium_allows(a, b, 80, "TCP", "ingress")
    assert not cluster.istio_allows(a, b, 80)


@pytest.mark.parametrize(
    "namespace", ["kube-system", "monitoring", "lattice-system", "capi-system"]
)
def test_system_namespaces_are_exempt_from_cilium_deny(namespace: str) -> None:
    cluster = Cluster(BASELINE, ambient=False)
    a, b = _pod(namespace, "a"), _pod(namespace, "b")
    assert cluster.cilium_allows(a, b, 80, "TCP", "egress")
    assert cluster.cilium_allows(a, b, 80, "TCP", "ingress")


def test_extra_exempt_namespaces_are_added_sorted() -> None:
    (ccnp, *_) = compile_mesh_baseline(ClusterInfo(), extra_exempt=["argocd"])
    values = ccnp["spec"]["endpointSelector"]["matchExpressions"][0]["values"]
    assert "argocd" in values and values == sorted(values)


def test_dns_stays_open_through_the_dns_proxy() -> None:
    cluster = Cluster(BASELINE)
    dns = Pod("kube-system", {"k8s-app": "kube-dns"}, "coredns")
    assert cluster.cilium_allows(_pod("shop", "a"), dns, 53, "UDP", "egress")
    (ccnp, *_) = BASELINE
    assert ccnp["spec"]["egress"][0]["toPorts"][0]["rules"] == {"dns": [{"matchPattern": "*"}]}


def test_istio_root_policy_has_an_empty_spec_and_mtls_is_strict() -> None:
    by_name = {(o["kind"], o["metadata"]["name"]): o for o in BASELINE}
    deny = by_name[("AuthorizationPolicy", "lattice-default-deny")]
    assert deny["metadata"]["namespace"] == "istio-system" and deny["spec"] == {}
    strict = by_name[("PeerAuthentication", "default")]
    assert strict["spec"] == {"mtls": {"mode": "STRICT"}}


def test_ingress_gateways_stay_open() -> None:
    gateway = Pod("edge", {"gateway.networking.k8s.io/gateway-class-name": "istio"}, "gw")
    assert Cluster(BASELINE).istio_allows(_pod("internet", "x"), gateway, 443)
