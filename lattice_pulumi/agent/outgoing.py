"""What the agent writes to its cell next: three flows on one Connect stream.

``control`` holds heartbeats, subtree reports and command replies; ``proxy`` the frames of
tunnelled API requests; the :class:`lattice_pulumi.agent.events.EventBuffer` the events.
:meth:`OutgoingFlows.next` takes control messages first, so however many proxy frames
wait (a burst of watch events, many large responses) a heartbeat or a reply waits for one
write at most; proxy frames and events then take turns, so neither starves the other.
Proxy frames need no bound here: each stream's body bytes are limited by its credit window
and the streams by the session's table. Used by :class:`lattice_pulumi.agent.client.Agent`.
"""

from __future__ import annotations

from collections import deque

from lattice_pulumi.agent.events import EventBuffer
from lattice_pulumi.protocol import pb

__all__ = ["OutgoingFlows"]


class OutgoingFlows:
    """The agent's outbound messages, by flow."""

    def __init__(self, events: EventBuffer) -> None:
        self.events = events
        self.control: deque[pb.AgentMessage] = deque()
        self.proxy: deque[pb.AgentMessage] = deque()
        self._events_turn = False

    def clear(self) -> None:
        """Forget control messages and proxy frames (a new session starts); events stay."""
        self.control.clear()
        self.proxy.clear()

    def next(self, envelope: pb.AgentMessage) -> tuple[pb.AgentMessage, pb.Event | None] | None:
        """The next message and, when it carries one, the event (to requeue if the write
        fails); ``envelope`` is a fresh message to wrap an event in. ``None``: nothing."""
        if self.control:
            return self.control.popleft(), None
        take_event = self._events_turn or not self.proxy
        self._events_turn = not self._events_turn
        if take_event and (event := self.events.pop()) is not None:
            envelope.event.CopyFrom(event)
            return envelope, event
        if self.proxy:
            return self.proxy.popleft(), None
        return None
