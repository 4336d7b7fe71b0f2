"""Jittered, bounded exponential backoff between the agent's reconnection attempts.

Each delay is drawn from the upper half of ``min(maximum, initial * multiplier**n)`` ("equal
jitter"): agents that lost their parent together spread out, and none retries in a hot loop.
"""

from __future__ import annotations

import random

__all__ = ["Backoff"]


class Backoff:
    """Delays for successive failures; :meth:`reset` after a successful session."""

    def __init__(
        self,
        initial: float,
        maximum: float,
        multiplier: float = 2.0,
        rng: random.Random | None = None,
    ) -> None:
        if not 0 < initial <= maximum:
            raise ValueError("backoff needs 0 < initial <= maximum")
        if multiplier < 1:
            raise ValueError("backoff multiplier must be at least 1")
        self.initial = initial
        self.maximum = maximum
        self.multiplier = multiplier
        self._rng = rng if rng is not None else random.Random()
        self._failures = 0

    def next_delay(self) -> float:
        """The delay before the next attempt, in seconds (never above ``maximum``)."""
        ceiling = min(self.maximum, self.initial * self.multiplier**self._failures)
        if ceiling < self.maximum:
            self._failures += 1
        return ceiling / 2 + self._rng.uniform(0, ceiling / 2)

    def reset(self) -> None:
        self._failures = 0
