"""Heartbeat grace and per-child command queues, against a real cell on loopback."""

from __future__ import annotations

import asyncio
import logging
import time

import grpc
import pytest
from conftest import WAIT, CellFactory, RunningAgents, eventually, issue_credentials

from lattice_pulumi import pki
from lattice_pulumi.cell import CellError
from lattice_pulumi.protocol import CURRENT, channel_options, pb, pb_grpc


def hello(cluster: str) -> pb.AgentMessage:
    return pb.AgentMessage(cluster=cluster, hello=pb.Hello(protocol=CURRENT.to_proto()))


async def test_a_child_that_stops_beating_is_marked_disconnected_after_the_grace(
    cell_factory: CellFactory,
    agents: RunningAgents,
    ca: pki.CertificateAuthority,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.WARNING, logger="lattice_pulumi.cell")
    cell = await cell_factory(heartbeat_grace=0.4)
    agents.start(agents.make("alive", cell.endpoint, issue_credentials(ca, "alive")))
    silent = issue_credentials(ca, "silent")
    async with grpc.aio.secure_channel(
        cell.endpoint, silent.channel_credentials(), options=channel_options(client=True)
    ) as channel:
        call = pb_grpc.AgentServiceStub(channel).Connect(timeout=WAIT)
        await call.write(hello("silent"))  # then nothing: no heartbeat ever
        await cell.registry.wait_until(
            lambda r: (rec := r.get("silent")) is not None and rec.connected, WAIT
        )
        started = time.monotonic()
        await cell.registry.wait_until(
            lambda r: (rec := r.get("silent")) is not None and not rec.connected, WAIT
        )
        elapsed = time.monotonic() - started
        # The cell also ends the stream, so a live but stuck agent would dial again.
        async with asyncio.timeout(WAIT):
            while await call.read() is not grpc.aio.EOF:
                pass
    assert 0.3 <= elapsed < 2.0
    assert "cluster silent sent no heartbeat for" in caplog.text
    alive = cell.registry.get("alive")
    assert alive is not None and alive.connected  # beating every 50 ms: untouched


async def test_a_stalled_agent_fills_only_its_own_queue(
    cell_factory: CellFactory, agents: RunningAgents, ca: pki.CertificateAuthority
) -> None:
    cell = await cell_factory(command_queue_size=4)
    agents.start(agents.make("healthy", cell.endpoint, issue_credentials(ca, "healthy")))
    stalled = issue_credentials(ca, "stalled")
    async with grpc.aio.secure_channel(
        cell.endpoint, stalled.channel_credentials(), options=channel_options(client=True)
    ) as channel:
        call = pb_grpc.AgentServiceStub(channel).Connect(timeout=WAIT * 3)
        await call.write(hello("stalled"))

        async def beat_but_never_read() -> None:
            while True:
                await call.write(pb.AgentMessage(cluster="stalled", heartbeat=pb.Heartbeat()))
                await asyncio.sleep(0.05)

        beating = asyncio.create_task(beat_but_never_read())
        waiting: list[asyncio.Task[pb.CommandReply]] = []
        try:
            await cell.registry.wait_until(
                lambda r: all(
                    (rec := r.get(n)) is not None and rec.heartbeats >= 1
                    for n in ("stalled", "healthy")
                ),
                WAIT,
            )
            big = pb.CellCommand(
                apply_manifests=pb.ApplyManifests(manifests=[b"x" * (1024 * 1024)])
            )
            with pytest.raises(CellError) as caught:
                for _ in range(200):  # flow control stops the writer, then the queue fills
                    waiting.append(asyncio.create_task(cell.request("stalled", big, WAIT * 3)))
                    await asyncio.sleep(0.01)
                    for task in waiting:
                        if task.done() and task.exception() is not None:
                            raise task.exception()  # type: ignore[misc]
            assert str(caught.value) == (
                "command queue of cluster 'stalled' is full (4 commands waiting): "
                "the agent is not reading; try again later"
            )
            # Meanwhile both children keep beating and the healthy one answers at once.
            before = {n: cell.registry.get(n).heartbeats for n in ("stalled", "healthy")}  # type: ignore[union-attr]
            started = time.monotonic()
            reply = await cell.request(
                "healthy", pb.CellCommand(status_request=pb.StatusRequest()), 2.0
            )
            assert reply.ok and time.monotonic() - started < 1.0
            await eventually(
                lambda: all(
                    cell.registry.get(n).heartbeats >= before[n] + 5  # type: ignore[union-attr]
                    for n in before
                ),
                timeout=2.0,
            )
        finally:
            beating.cancel()
            for task in waiting:
                task.cancel()
            await asyncio.gather(beating, *waiting, return_exceptions=True)
            call.cancel()
