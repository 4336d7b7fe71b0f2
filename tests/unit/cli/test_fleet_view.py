"""Fleet view helpers: rows, depth order, staleness, tables, tree and data (no I/O, no clock)."""

from __future__ import annotations

import pytest

from lattice_pulumi.cli import fleet_view
from lattice_pulumi.protocol import pb

NOW = 1_760_000_000_000  # fixed "now" in unix ms
MIN = 60_000


def entry(name: str, parent: str, **fields: object) -> pb.SubtreeCluster:
    health = pb.ClusterHealth(
        control_plane=pb.NodeCounts(ready=3, total=3),
        workers=pb.NodeCounts(ready=4, total=5),
        pools=[pb.NodePool(name="general", nodes=pb.NodeCounts(ready=4, total=5))],
    )
    defaults: dict[str, object] = {
        "state": pb.CLUSTER_STATE_READY,
        "health": health,
        "connected": True,
        "provider": "aws",
        "kubernetes_version": "v1.33.1",
        "role": "leaf",
        "first_seen_unix_ms": NOW - 90 * MIN,
        "last_heartbeat_unix_ms": NOW - 5_000,
    }
    return pb.SubtreeCluster(name=name, parent=parent, **{**defaults, **fields})  # type: ignore[arg-type]


def view(*clusters: pb.SubtreeCluster) -> pb.FleetView:
    cell = pb.SubtreeCluster(name="root", role="root", connected=True, first_seen_unix_ms=NOW)
    return pb.FleetView(cell=cell, clusters=list(clusters))


THREE_LEVELS = view(
    entry("prod", "root", role="parent"),
    entry("us-east", "prod"),
    entry("dev", "root"),
    entry("eu-west", "prod", connected=False),
)


def test_rows_are_sorted_by_depth_then_name() -> None:
    rows = fleet_view.clusters_of(THREE_LEVELS)
    assert [(r.name, r.depth) for r in rows] == [
        ("root", 0),
        ("dev", 1),
        ("prod", 1),
        ("eu-west", 2),
        ("us-east", 2),
    ]


def test_clusters_below_a_disconnected_child_are_stale() -> None:
    rows = {
        r.name: r
        for r in fleet_view.clusters_of(
            view(entry("prod", "root", connected=False), entry("us-east", "prod"))
        )
    }
    assert (rows["prod"].agent, rows["us-east"].agent) == ("disconnected", "unknown")


def test_an_orphan_hangs_under_the_cell() -> None:
    rows = fleet_view.clusters_of(view(entry("lost", "gone")))
    assert [(r.name, r.depth) for r in rows] == [("root", 0), ("lost", 1)]


@pytest.mark.parametrize(
    ("seconds", "text"),
    [
        pytest.param(-3, "0s", id="clock skew"),
        pytest.param(45, "45s", id="seconds"),
        pytest.param(119, "119s", id="just under two minutes"),
        pytest.param(90 * 60, "90m", id="minutes"),
        pytest.param(5 * 3600, "5h", id="hours"),
        pytest.param(3 * 86400, "3d", id="days"),
    ],
)
def test_age(seconds: float, text: str) -> None:
    assert fleet_view.format_age(seconds) == text


def test_timestamps_are_rfc3339_utc() -> None:
    assert fleet_view.format_timestamp(NOW) == "2025-10-09T08:53:20Z"
    assert fleet_view.format_timestamp(0) == "never"


def test_clusters_table() -> None:
    text = fleet_view.render_text(
        fleet_view.format_clusters_table(fleet_view.clusters_of(THREE_LEVELS), NOW)
    )
    lines = [line.rstrip() for line in text.splitlines()]
    assert lines[0].split() == ["NAME", "PHASE", "PROVIDER", "K8S", "CP", "WORKERS", "ROLE", "AGE"]
    assert lines[1].split() == ["root", "Unknown", "-", "-", "0/0", "0/0", "root", "0s"]
    assert lines[3].split() == ["prod", "Ready", "aws", "v1.33.1", "3/3", "4/5", "parent", "90m"]
    assert [line.split()[0] for line in lines[1:]] == ["root", "dev", "prod", "eu-west", "us-east"]


def test_hierarchy_tree_uses_box_drawing() -> None:
    text = fleet_view.render_text(fleet_view.format_hierarchy(fleet_view.clusters_of(THREE_LEVELS)))
    assert [line.rstrip() for line in text.splitlines()] == [
        "root  Unknown  serving",
        "├── dev  Ready  connected",
        "└── prod  Ready  connected",
        "    ├── eu-west  Ready  disconnected",
        "    └── us-east  Ready  connected",
    ]


def test_health_table_shows_timestamp_and_age() -> None:
    rows = fleet_view.clusters_of(THREE_LEVELS)
    text = fleet_view.render_text(fleet_view.format_health_table(rows, NOW))
    dev = next(line for line in text.splitlines() if line.startswith("dev"))
    assert dev.split() == ["dev", "Ready", "3/3", "4/5", "connected", "2025-10-09T08:53:15Z", "5s"]


def test_cluster_detail_lists_pools_and_conditions() -> None:
    condition = pb.Condition(
        type="NodesReady",
        status="False",
        reason="WorkerDown",
        message="1 of 5 workers not ready",
        last_transition_unix=(NOW - 3 * MIN) // 1000,
    )
    prod = entry("prod", "root")
    prod.health.conditions.append(condition)
    row = fleet_view.clusters_of(view(prod))[1]
    text = fleet_view.render_text(fleet_view.format_cluster_detail(row, NOW))
    assert "Last heartbeat:  2025-10-09T08:53:15Z (5s ago)" in text
    assert "general  4/5" in text
    assert "NodesReady  False   WorkerDown  3m     1 of 5 workers not ready" in text


def test_cluster_data_is_json_ready() -> None:
    row = fleet_view.clusters_of(view(entry("prod", "root")))[1]
    data = fleet_view.cluster_data(row)
    assert data["controlPlane"] == {"ready": 3, "total": 3}
    assert data["pools"] == [{"name": "general", "ready": 4, "total": 5, "instanceType": ""}]
    assert data["agent"] == {"state": "connected", "version": ""}
    assert data["lastHeartbeat"] == "2025-10-09T08:53:15Z"


def test_hierarchy_data_nests_children() -> None:
    data = fleet_view.hierarchy_data(fleet_view.clusters_of(THREE_LEVELS))
    prod = next(c for c in data["children"] if c["name"] == "prod")
    assert [c["name"] for c in prod["children"]] == ["eu-west", "us-east"]


def test_health_data_has_the_age_in_seconds() -> None:
    row = fleet_view.clusters_of(view(entry("prod", "root")))[1]
    assert fleet_view.health_data(row, NOW)["lastHeartbeatAgeSeconds"] == 5.0


def test_cluster_detail_lists_addons_apart_from_conditions() -> None:
    prod = entry("prod", "root")
    prod.health.conditions.extend(
        [
            pb.Condition(type="ControlPlaneReady", status="True", reason="AllNodesReady"),
            pb.Condition(type="Addon.cilium", status="True", reason="Ready"),
            pb.Condition(
                type="Addon.istiod", status="False", reason="InstallFailed", message="timeout"
            ),
        ]
    )
    row = fleet_view.clusters_of(view(prod))[1]
    text = fleet_view.render_text(fleet_view.format_cluster_detail(row, NOW))
    lines = [line.strip() for line in text.splitlines()]
    assert "ADD-ON  HEALTH     REASON         MESSAGE" in lines
    assert "cilium  Healthy    Ready" in lines
    assert "istiod  Unhealthy  InstallFailed  timeout" in lines
    conditions = text[text.index("CONDITION") :]
    assert "Addon." not in conditions
    assert [a["name"] for a in fleet_view.cluster_data(row)["addons"]] == ["cilium", "istiod"]
