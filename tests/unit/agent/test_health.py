"""``health_from_nodes``: node roles, readiness, pools and the derived cluster state."""

from __future__ import annotations

import pytest
from lightkube.models.core_v1 import NodeCondition, NodeStatus
from lightkube.models.meta_v1 import ObjectMeta
from lightkube.resources.core_v1 import Node

from lattice_pulumi.agent.health import UNPOOLED, health_from_nodes, node_ready
from lattice_pulumi.protocol import pb

CP = {"node-role.kubernetes.io/control-plane": ""}


def node(
    name: str,
    ready: bool | None = True,
    labels: dict[str, str] | None = None,
    *,
    pool: str | None = None,
) -> Node:
    """A Node; ``ready=None`` leaves out the Ready condition (a kubelet that never reported)."""
    all_labels = dict(labels or {})
    if pool is not None:
        all_labels["lattice.dev/pool"] = pool
    conditions = [NodeCondition(type="MemoryPressure", status="False")]
    if ready is not None:
        conditions.append(NodeCondition(type="Ready", status="True" if ready else "False"))
    return Node(
        metadata=ObjectMeta(name=name, labels=all_labels),
        status=NodeStatus(conditions=conditions),
    )


def counts(c: pb.NodeCounts) -> tuple[int, int]:
    return (c.ready, c.total)


CASES = [
    # (id, nodes, state, control plane (ready, total), workers (ready, total))
    ("no nodes yet", [], pb.CLUSTER_STATE_PROVISIONING, (0, 0), (0, 0)),
    (
        "one ready control plane, no workers",
        [node("cp1", labels=CP)],
        pb.CLUSTER_STATE_READY,
        (1, 1),
        (0, 0),
    ),
    (
        "all ready",
        [node("cp1", labels=CP), node("cp2", labels=CP), node("w1"), node("w2")],
        pb.CLUSTER_STATE_READY,
        (2, 2),
        (2, 2),
    ),
    (
        "a control-plane node not ready",
        [node("cp1", labels=CP), node("cp2", False, CP), node("w1")],
        pb.CLUSTER_STATE_DEGRADED,
        (1, 2),
        (1, 1),
    ),
    (
        "a worker not ready",
        [node("cp1", labels=CP), node("w1"), node("w2", False)],
        pb.CLUSTER_STATE_DEGRADED,
        (1, 1),
        (1, 2),
    ),
    (
        "no Ready condition counts as not ready",
        [node("cp1", labels=CP), node("w1", None)],
        pb.CLUSTER_STATE_DEGRADED,
        (1, 1),
        (0, 1),
    ),
    (
        "legacy master label is control plane",
        [node("m1", labels={"node-role.kubernetes.io/master": "true"}), node("w1")],
        pb.CLUSTER_STATE_READY,
        (1, 1),
        (1, 1),
    ),
    (
        "workers only (managed control plane)",
        [node("w1"), node("w2")],
        pb.CLUSTER_STATE_READY,
        (0, 0),
        (2, 2),
    ),
    (
        "nothing ready",
        [node("cp1", False, CP), node("w1", False)],
        pb.CLUSTER_STATE_DEGRADED,
        (0, 1),
        (0, 1),
    ),
]


@pytest.mark.parametrize(
    ("nodes", "state", "control_plane", "workers"),
    [case[1:] for case in CASES],
    ids=[case[0] for case in CASES],
)
def test_state_and_counts(
    nodes: list[Node],
    state: pb.ClusterState,
    control_plane: tuple[int, int],
    workers: tuple[int, int],
) -> None:
    got_state, health = health_from_nodes(nodes)
    assert pb.ClusterState.Name(got_state) == pb.ClusterState.Name(state)
    assert counts(health.control_plane) == control_plane
    assert counts(health.workers) == workers


def test_pools_group_workers_and_sum_to_the_worker_count() -> None:
    nodes = [
        node("cp1", labels=CP, pool="ignored-for-control-plane"),
        node("a1", pool="general", labels={"node.kubernetes.io/instance-type": "m5.large"}),
        node("a2", False, pool="general"),
        node("g1", pool="gpu"),
        node("x1"),
    ]
    _, health = health_from_nodes(nodes)
    pools = {p.name: (counts(p.nodes), p.instance_type) for p in health.pools}
    assert pools == {
        "general": ((1, 2), "m5.large"),
        "gpu": ((1, 1), ""),
        UNPOOLED: ((1, 1), ""),
    }
    assert [p.name for p in health.pools] == sorted(pools)
    assert sum(p.nodes.total for p in health.pools) == health.workers.total
    assert sum(p.nodes.ready for p in health.pools) == health.workers.ready


def test_conditions_name_the_nodes_that_are_not_ready() -> None:
    nodes = [node("cp1", labels=CP), *(node(f"w{i}", False) for i in range(7)), node("ok")]
    _, health = health_from_nodes(nodes)
    conditions = {c.type: c for c in health.conditions}
    assert (conditions["ControlPlaneReady"].status, conditions["ControlPlaneReady"].reason) == (
        "True",
        "AllNodesReady",
    )
    workers = conditions["WorkersReady"]
    assert (workers.status, workers.reason) == ("False", "NodesNotReady")
    assert workers.message == "1/8 worker nodes ready; not ready: w0, w1, w2, w3, w4 and 2 more"


def test_node_ready_reads_only_the_ready_condition() -> None:
    assert node_ready(node("a"))
    assert not node_ready(node("b", False))
    assert not node_ready(node("c", None))
    assert not node_ready(Node(metadata=ObjectMeta(name="bare")))
