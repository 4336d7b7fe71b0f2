"""Agent and cell over real mTLS gRPC on loopback: hello, heartbeats, commands, reconnects."""

from __future__ import annotations

from collections.abc import Callable

from conftest import WAIT, CellFactory, RunningAgents, eventually, issue_credentials

from lattice_pulumi import pki
from lattice_pulumi.cell import CellError, CellServer, ClusterRegistry
from lattice_pulumi.protocol import CURRENT, pb


def beats(name: str, count: int = 1) -> Callable[[ClusterRegistry], bool]:
    def check(registry: ClusterRegistry) -> bool:
        record = registry.get(name)
        return record is not None and record.connected and record.heartbeats >= count

    return check


async def test_heartbeats_reach_the_cell_registry(
    cell: CellServer, agents: RunningAgents, ca: pki.CertificateAuthority
) -> None:
    agent = agents.make(
        "alpha", cell.endpoint, issue_credentials(ca, "alpha"), kubernetes_version="v1.33.1"
    )
    agents.start(agent)
    await cell.registry.wait_until(beats("alpha", 3), WAIT)

    record = cell.registry.get("alpha")
    assert record is not None
    assert (record.protocol, record.kubernetes_version) == (str(CURRENT), "v1.33.1")
    assert record.state == pb.CLUSTER_STATE_READY
    assert (record.health.control_plane.ready, record.health.control_plane.total) == (3, 3)
    assert (record.health.workers.ready, record.health.workers.total) == (4, 5)
    assert record.certificate_fingerprint == pki.fingerprint(agent.credentials.certificate)
    assert cell.connected() == ["alpha"]


async def test_status_request_is_answered_over_the_stream(
    cell: CellServer, agents: RunningAgents, ca: pki.CertificateAuthority
) -> None:
    agents.start(agents.make("alpha", cell.endpoint, issue_credentials(ca, "alpha")))
    await cell.registry.wait_until(beats("alpha"), WAIT)

    reply = await cell.request("alpha", pb.CellCommand(status_request=pb.StatusRequest()), WAIT)
    assert reply.ok
    assert reply.status.heartbeat.health.workers.total == 5

    unsupported = await cell.request(
        "alpha", pb.CellCommand(apply_manifests=pb.ApplyManifests(manifests=[b"{}"])), WAIT
    )
    assert (unsupported.ok, unsupported.error) == (
        False,
        "apply_manifests is not supported by this agent",
    )


async def test_request_to_an_unknown_cluster_fails_clearly(cell: CellServer) -> None:
    try:
        await cell.request("ghost", pb.CellCommand(status_request=pb.StatusRequest()), 1)
    except CellError as exc:
        assert str(exc) == "cluster 'ghost' is not connected"
    else:
        raise AssertionError("expected CellError")


async def test_agent_reconnects_after_the_cell_restarts_and_resends_state(
    cell_factory: CellFactory, agents: RunningAgents, ca: pki.CertificateAuthority
) -> None:
    first = await cell_factory()
    agent = agents.start(agents.make("alpha", first.endpoint, issue_credentials(ca, "alpha")))
    await first.registry.wait_until(beats("alpha"), WAIT)

    await first.stop(None)
    await eventually(lambda: not agent.connected.is_set())
    agent.emit("Disconnected", "emitted while the parent was away")

    second = await cell_factory(port=first.port)  # a fresh cell: empty registry
    await second.registry.wait_until(
        lambda r: (
            (rec := r.get("alpha")) is not None and rec.heartbeats >= 1 and len(rec.events) >= 1
        ),
        WAIT,
    )
    record = second.registry.get("alpha")
    assert record is not None
    assert record.state == pb.CLUSTER_STATE_READY  # state re-sent, not just reconnected
    assert [e.reason for e in record.events] == ["Disconnected"]
    assert agent.sessions == 2


async def test_event_buffer_is_bounded_while_disconnected(
    cell_factory: CellFactory, agents: RunningAgents, ca: pki.CertificateAuthority
) -> None:
    first = await cell_factory()
    port = first.port
    await first.stop(None)  # nothing listens on the port now
    agent = agents.start(
        agents.make(
            "alpha", f"127.0.0.1:{port}", issue_credentials(ca, "alpha"), event_buffer_size=10
        )
    )
    for i in range(50):
        agent.emit("Tick", f"event {i}")
    assert len(agent.events) == 10

    cell = await cell_factory(port=port)
    await cell.registry.wait_until(
        lambda r: (rec := r.get("alpha")) is not None and len(rec.events) >= 10, WAIT
    )
    record = cell.registry.get("alpha")
    assert record is not None
    events = list(record.events)
    assert [e.message for e in events] == [f"event {i}" for i in range(40, 50)]
    assert [e.dropped_before for e in events] == [40] + [0] * 9


async def test_multi_level_hierarchy_reports_the_subtree(
    cell_factory: CellFactory, agents: RunningAgents, ca: pki.CertificateAuthority
) -> None:
    root = await cell_factory("root")
    mid_cell = await cell_factory("mid")
    agents.start(
        agents.make(
            "mid",
            root.endpoint,
            issue_credentials(ca, "mid"),
            subtree=mid_cell.registry.subtree_snapshot,
        )
    )
    agents.start(agents.make("leaf", mid_cell.endpoint, issue_credentials(ca, "leaf")))

    def leaf_seen_at_root(registry: ClusterRegistry) -> bool:
        record = registry.get("mid")
        return record is not None and any(
            c.name == "leaf"
            and c.parent == "mid"
            and c.connected
            and c.state == pb.CLUSTER_STATE_READY
            for c in record.subtree
        )

    await root.registry.wait_until(leaf_seen_at_root, WAIT)
    snapshot = root.registry.subtree_snapshot()
    assert [(c.name, c.parent) for c in snapshot.clusters] == [("mid", "root"), ("leaf", "mid")]
