"""Per-stream flow control of tunnelled requests: credits, limits and cancellation."""

from __future__ import annotations

import asyncio

import pytest

from lattice_pulumi.protocol import pb
from lattice_pulumi.protocol.tunnel import (
    MAX_CHUNK,
    Activity,
    StreamCancelled,
    StreamTable,
    TunnelStream,
    clamp_window,
)

WINDOW = 2 * MAX_CHUNK


def pair() -> tuple[TunnelStream, TunnelStream, list[pb.ProxyFrame]]:
    """Two ends wired back to back; every frame on the wire is also recorded."""
    wire: list[pb.ProxyFrame] = []
    ends: dict[str, TunnelStream] = {}

    def sender(to: str):  # type: ignore[no-untyped-def]
        async def send(frame: pb.ProxyFrame) -> None:
            wire.append(frame)
            ends[to].deliver(pb.ProxyFrame.FromString(frame.SerializeToString()))  # as sent

        return send

    ends["a"] = TunnelStream("s", sender("b"), WINDOW)
    ends["b"] = TunnelStream("s", sender("a"), WINDOW)
    return ends["a"], ends["b"], wire


async def test_a_sender_stops_at_the_window_until_the_receiver_reads() -> None:
    a, b, wire = pair()
    sending = asyncio.create_task(a.send_data(b"x" * (3 * WINDOW)))
    await asyncio.sleep(0.01)
    sent = sum(len(f.data) for f in wire if f.WhichOneof("kind") == "data")
    assert sent == WINDOW and not sending.done()
    received = 0
    while received < 3 * WINDOW:
        frame = await b.receive()
        received += len(frame.data)
    await asyncio.wait_for(sending, 1)
    assert all(len(f.data) <= MAX_CHUNK for f in wire)
    assert any(f.WhichOneof("kind") == "credit" for f in wire)


async def test_a_slow_stream_does_not_hold_up_another() -> None:
    slow_a, _slow_b, _ = pair()
    fast_a, fast_b, _ = pair()
    stuck = asyncio.create_task(slow_a.send_data(b"x" * (2 * WINDOW)))
    await fast_a.send_data(b"y" * 10)
    await fast_a.send_end()
    assert (await fast_b.receive()).data == b"y" * 10
    assert (await fast_b.receive()).WhichOneof("kind") == "end"
    assert not stuck.done()
    stuck.cancel()


async def test_more_data_than_credit_cancels_the_stream() -> None:
    async def nowhere(frame: pb.ProxyFrame) -> None:
        return None

    stream = TunnelStream("s", nowhere, WINDOW)
    for _ in range(3):
        stream.deliver(pb.ProxyFrame(stream_id="s", data=b"z" * MAX_CHUNK))
    assert stream.cancel_reason == "the peer sent more than its credit"


async def test_cancel_reaches_the_peer_and_wakes_a_blocked_sender() -> None:
    a, b, _ = pair()
    blocked = asyncio.create_task(a.send_data(b"x" * (2 * WINDOW)))
    await asyncio.sleep(0.01)
    await b.cancel("client went away")
    with pytest.raises(StreamCancelled, match="client went away"):
        await asyncio.wait_for(blocked, 1)
    with pytest.raises(StreamCancelled):
        await b.receive()
    assert await asyncio.wait_for(a.wait_cancelled(), 1) == "client went away"


async def test_cancel_wakes_a_blocked_receiver_and_drops_what_was_queued() -> None:
    a, b, _ = pair()
    waiting = asyncio.create_task(b.receive())
    await asyncio.sleep(0)
    await a.cancel("client went away")
    with pytest.raises(StreamCancelled, match="client went away"):
        await asyncio.wait_for(waiting, 1)
    c, d, _ = pair()
    await c.send_data(b"queued")
    d.abandon("session ended")
    for _ in range(2):  # every later receive raises too, never the queued bytes
        with pytest.raises(StreamCancelled, match="session ended"):
            await d.receive()


def test_the_table_bounds_open_streams() -> None:
    async def nowhere(frame: pb.ProxyFrame) -> None:
        return None

    table = StreamTable(limit=1)
    table.add(TunnelStream("one", nowhere))
    with pytest.raises(StreamCancelled, match="too many open streams"):
        table.add(TunnelStream("two", nowhere))
    assert not table.deliver(pb.ProxyFrame(stream_id="gone", data=b"x"))
    assert table.ids() == ["one"]


def test_windows_are_clamped() -> None:
    assert clamp_window(0) == 256 * 1024
    assert clamp_window(1) == MAX_CHUNK
    assert clamp_window(1 << 30) == 8 * 1024 * 1024


async def test_a_small_answer_is_one_frame_that_reads_as_head_data_end() -> None:
    a, b, wire = pair()
    head = pb.ProxyHead(status=200, headers=[pb.ProxyHeader(name="Content-Type", value="x")])
    await a.send_head(head, b"{}", last=True)
    assert len(wire) == 1 and wire[0].last and wire[0].head.body == b"{}"
    assert b.peer_done
    first = await b.receive()
    assert first.head.status == 200 and first.head.body == b""
    assert await b.read_body(WINDOW) == b"{}"


async def test_a_frame_after_the_last_one_cancels_the_stream() -> None:
    a, b, _ = pair()
    await a.send_data(b"x", last=True)
    b.deliver(pb.ProxyFrame(stream_id="s", data=b"late"))
    assert b.cancel_reason == "a data frame after the peer's last one"


async def test_activity_expires_only_after_the_idle_time_since_the_last_byte() -> None:
    activity = Activity()
    expiry = asyncio.create_task(activity.expire(0.3))
    for _ in range(4):  # bytes keep moving: 0.4 s in, still not idle
        await asyncio.sleep(0.1)
        activity.touch()
    assert not expiry.done()
    begun = asyncio.get_running_loop().time()
    assert await expiry == "no bytes either way for 0.3s"
    assert asyncio.get_running_loop().time() - begun >= 0.25
