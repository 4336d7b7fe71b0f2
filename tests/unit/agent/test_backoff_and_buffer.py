"""Reconnect backoff stays jittered and bounded; the event buffer stays bounded."""

from __future__ import annotations

import random

import pytest

from lattice_pulumi.agent import Backoff, EventBuffer
from lattice_pulumi.protocol import pb


def test_backoff_grows_then_stays_below_the_maximum() -> None:
    backoff = Backoff(0.1, 2.0, rng=random.Random(7))
    delays = [backoff.next_delay() for _ in range(20)]
    assert all(0.05 <= d <= 2.0 for d in delays)
    assert delays[0] <= 0.1
    assert max(delays[-5:]) > 1.0  # reached the ceiling region


def test_backoff_is_jittered() -> None:
    first = [Backoff(1, 60, rng=random.Random(seed)).next_delay() for seed in range(10)]
    assert len(set(first)) == 10


def test_backoff_reset_starts_over() -> None:
    backoff = Backoff(0.1, 10, rng=random.Random(1))
    for _ in range(6):
        backoff.next_delay()
    backoff.reset()
    assert backoff.next_delay() <= 0.1


@pytest.mark.parametrize(
    ("initial", "maximum"), [pytest.param(0, 1, id="zero"), pytest.param(2, 1, id="inverted")]
)
def test_backoff_refuses_nonsense(initial: float, maximum: float) -> None:
    with pytest.raises(ValueError, match="0 < initial <= maximum"):
        Backoff(initial, maximum)


def test_buffer_drops_oldest_and_reports_the_gap() -> None:
    buffer = EventBuffer(3)
    for i in range(5):
        buffer.push(pb.Event(reason=f"e{i}"))
    assert len(buffer) == 3
    first = buffer.pop()
    assert first is not None
    assert (first.reason, first.dropped_before) == ("e2", 2)
    rest = [buffer.pop(), buffer.pop()]
    assert [(e.reason, e.dropped_before) for e in rest if e] == [("e3", 0), ("e4", 0)]
    assert buffer.pop() is None
    assert buffer.dropped_total == 2


def test_requeued_event_goes_first() -> None:
    buffer = EventBuffer(3)
    buffer.push(pb.Event(reason="a"))
    buffer.push(pb.Event(reason="b"))
    event = buffer.pop()
    assert event is not None
    buffer.requeue(event)
    assert [e.reason for e in (buffer.pop(), buffer.pop()) if e] == ["a", "b"]
