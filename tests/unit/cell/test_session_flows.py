"""A cell session's two outbound flows: proxy traffic never fills the command queue."""

from __future__ import annotations

import asyncio

import pytest

from lattice_pulumi.cell.service import Session
from lattice_pulumi.protocol import pb


def session(queue_size: int = 64) -> Session:
    return Session("child", "s1", asyncio.Queue(queue_size))


async def test_a_thousand_proxy_frames_leave_the_command_queue_free() -> None:
    live = session()
    for index in range(1000):
        live.queue_proxy(pb.ProxyFrame(stream_id=f"s{index}", data=b"x" * 100))
    live.queue_command(pb.CellCommand(request_id="r1", status_request=pb.StatusRequest()))
    first = live.next_outgoing()
    assert first is not None and first.request_id == "r1"  # ahead of every queued frame
    assert len(live.proxy_out) == 1000
    assert live.wake.is_set()


async def test_a_full_command_queue_refuses_commands_but_not_proxy_frames() -> None:
    live = session(queue_size=2)
    for index in range(2):
        live.queue_command(pb.CellCommand(request_id=f"r{index}"))
    with pytest.raises(asyncio.QueueFull):
        live.queue_command(pb.CellCommand(request_id="r2"))
    live.queue_proxy(pb.ProxyFrame(stream_id="s", end=pb.ProxyEnd()))
    order = []
    while (command := live.next_outgoing()) is not None:
        order.append(command.WhichOneof("body") or command.request_id)
    assert order == ["r0", "r1", "proxy"]
