"""A bounded buffer of Kubernetes-style events waiting to be sent to the cell.

The agent keeps emitting while disconnected; when the buffer is full the oldest event is
dropped and counted, and the next event sent carries that count in ``dropped_before`` so the
cell knows the history has a gap.
"""

from __future__ import annotations

from collections import deque

from lattice_pulumi.protocol import pb

__all__ = ["EventBuffer"]


class EventBuffer:
    """FIFO of at most ``capacity`` events plus a count of those dropped."""

    def __init__(self, capacity: int) -> None:
        if capacity <= 0:
            raise ValueError("event buffer capacity must be positive")
        self.capacity = capacity
        self._events: deque[pb.Event] = deque()
        self._dropped = 0
        self.dropped_total = 0

    def __len__(self) -> int:
        return len(self._events)

    def push(self, event: pb.Event) -> None:
        if len(self._events) >= self.capacity:
            self._events.popleft()
            self._dropped += 1
            self.dropped_total += 1
        self._events.append(event)

    def requeue(self, event: pb.Event) -> None:
        """Put back an event whose send failed, ahead of the others (if there is room)."""
        if len(self._events) >= self.capacity:
            self._dropped += 1 + event.dropped_before
            self.dropped_total += 1
            return
        self._events.appendleft(event)

    def pop(self) -> pb.Event | None:
        """The oldest event, stamped with the drops that happened before it."""
        if not self._events:
            return None
        event = self._events.popleft()
        if self._dropped:
            event.dropped_before += self._dropped
            self._dropped = 0
        return event
