"""Autoscaled pools: node-group bounds as annotations, replicas from min, the autoscaler."""

from __future__ import annotations

from lattice_pulumi.compile.cluster import build_cluster_manifests, compile_cluster
from lattice_pulumi.compile.cluster.core import AUTOSCALER_MAX_SIZE, AUTOSCALER_MIN_SIZE
from tests.manifests import assert_valid
from tests.unit.compile.cluster.helpers import PARENT, example


def _deployments(provider: str, **changes: object) -> dict[str, dict[str, object]]:
    cluster, cloud = example(provider, **changes)
    return {
        o["metadata"]["name"]: o
        for o in compile_cluster(cluster, cloud, PARENT)
        if o["kind"] == "MachineDeployment"
    }


def test_autoscaled_pool_carries_bounds_and_starts_at_min() -> None:
    gpu = _deployments("aws")["production-gpu"]
    assert gpu["metadata"]["annotations"] == {AUTOSCALER_MAX_SIZE: "8", AUTOSCALER_MIN_SIZE: "2"}
    assert gpu["spec"]["replicas"] == 2


def test_fixed_pool_has_no_bounds() -> None:
    general = _deployments("aws")["production-general"]
    assert "annotations" not in general["metadata"]
    assert general["spec"]["replicas"] == 10


def test_replicas_inside_the_bounds_win_over_min() -> None:
    pool = {"min": 1, "max": 5, "replicas": 3}
    deployment = _deployments("docker", spec__nodes__workerPools__default=pool)["dev-default"]
    assert deployment["spec"]["replicas"] == 3


def test_the_autoscaler_discovers_the_cluster_namespace_and_has_capi_rights() -> None:
    cluster, _ = example("aws")
    manifests = build_cluster_manifests(cluster)
    assert_valid(manifests)
    by_kind = {o["kind"]: o for o in manifests if o["metadata"]["name"].endswith("autoscaler")}
    assert set(by_kind) == {"ServiceAccount", "ClusterRole", "ClusterRoleBinding", "Deployment"}
    (container,) = by_kind["Deployment"]["spec"]["template"]["spec"]["containers"]
    assert container["image"] == "registry.k8s.io/autoscaling/cluster-autoscaler:v1.32.0"
    assert (
        "--node-group-auto-discovery=clusterapi:namespace=capi-production,clusterName=production"
        in container["args"]
    )
    capi = [r for r in by_kind["ClusterRole"]["rules"] if r["apiGroups"] == ["cluster.x-k8s.io"]]
    assert "machinedeployments/scale" in capi[0]["resources"]


def test_no_autoscaler_without_autoscaled_pools() -> None:
    cluster, _ = example("docker")
    assert not [o for o in build_cluster_manifests(cluster) if o["kind"] == "Deployment"]
