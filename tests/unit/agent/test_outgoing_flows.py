"""The agent's outbound flows: control first, proxy frames and events take turns."""

from __future__ import annotations

from lattice_pulumi.agent.events import EventBuffer
from lattice_pulumi.agent.outgoing import OutgoingFlows
from lattice_pulumi.protocol import pb


def proxy_message(index: int) -> pb.AgentMessage:
    return pb.AgentMessage(proxy=pb.ProxyFrame(stream_id=f"s{index}", data=b"x" * 100))


def heartbeat() -> pb.AgentMessage:
    return pb.AgentMessage(heartbeat=pb.Heartbeat())


def drain(flows: OutgoingFlows) -> list[str]:
    kinds = []
    while (chosen := flows.next(pb.AgentMessage())) is not None:
        kinds.append(chosen[0].WhichOneof("body") or "")
    return kinds


def test_a_heartbeat_queued_behind_a_thousand_proxy_frames_is_written_next() -> None:
    flows = OutgoingFlows(EventBuffer(10))
    flows.proxy.extend(proxy_message(i) for i in range(1000))
    flows.next(pb.AgentMessage())  # one frame is being written
    flows.control.append(heartbeat())
    chosen = flows.next(pb.AgentMessage())
    assert chosen is not None and chosen[0].WhichOneof("body") == "heartbeat"
    assert len(flows.proxy) == 999


def test_proxy_frames_and_events_take_turns() -> None:
    events = EventBuffer(10)
    for index in range(3):
        events.push(pb.Event(reason=f"r{index}"))
    flows = OutgoingFlows(events)
    flows.proxy.extend(proxy_message(i) for i in range(3))
    assert drain(flows) == ["proxy", "event", "proxy", "event", "proxy", "event"]


def test_an_event_written_carries_itself_for_requeueing() -> None:
    events = EventBuffer(10)
    events.push(pb.Event(reason="Started"))
    chosen = OutgoingFlows(events).next(pb.AgentMessage())
    assert chosen is not None
    message, event = chosen
    assert event is not None and event.reason == "Started"
    assert message.event.reason == "Started"


def test_a_new_session_forgets_frames_but_keeps_events() -> None:
    events = EventBuffer(10)
    events.push(pb.Event(reason="Kept"))
    flows = OutgoingFlows(events)
    flows.proxy.append(proxy_message(0))
    flows.control.append(heartbeat())
    flows.clear()
    assert drain(flows) == ["event"]
