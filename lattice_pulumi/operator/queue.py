"""The work queue of services to converge again because something they depend on changed.

Keys are deduplicated while they wait (a burst of peer changes compiles a service once),
a key is never worked on twice at once, and a failed key comes back after its delay. The
kopf handlers converge the changed object itself; this queue carries the others (peers,
policy and provider dependents). ``depth`` counts waiting plus running keys.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Iterable

__all__ = ["WorkQueue"]

_log = logging.getLogger(__name__)

Work = Callable[[str], Awaitable[float | None]]
"""Converge one key; a delay in seconds to try again, or None when done."""


class WorkQueue:
    """Deduplicating keys to work on, with delayed retries, worked by ``workers`` tasks."""

    def __init__(
        self, work: Work, *, workers: int = 4, on_depth: Callable[[int], None] | None = None
    ) -> None:
        self._work = work
        self._workers = workers
        self._queue: asyncio.Queue[str] = asyncio.Queue()
        self._waiting: set[str] = set()
        self._running: set[str] = set()
        self._again: set[str] = set()
        self._tasks: list[asyncio.Task[None]] = []
        self._timers: set[asyncio.TimerHandle] = set()
        self._on_depth = on_depth or (lambda depth: None)

    @property
    def depth(self) -> int:
        return len(self._waiting) + len(self._running)

    def add(self, keys: Iterable[str]) -> None:
        for key in keys:
            if key in self._running:
                self._again.add(key)  # changed while being worked on: once more afterwards
            elif key not in self._waiting:
                self._waiting.add(key)
                self._queue.put_nowait(key)
        self._on_depth(self.depth)

    def add_later(self, key: str, delay: float) -> None:
        loop = asyncio.get_running_loop()
        handle = loop.call_later(delay, lambda: self._fire(key))
        self._timers.add(handle)

    def _fire(self, key: str) -> None:
        self._timers = {
            t
            for t in self._timers
            if not t.cancelled() and t.when() > asyncio.get_running_loop().time()
        }
        self.add([key])

    def start(self) -> None:
        self._tasks = [asyncio.create_task(self._worker()) for _ in range(self._workers)]

    async def stop(self) -> None:
        for timer in self._timers:
            timer.cancel()
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)

    async def join(self) -> None:
        """Wait until nothing is waiting or running (tests and benchmarks)."""
        while self.depth:
            await asyncio.sleep(0.01)

    async def _worker(self) -> None:
        while True:
            key = await self._queue.get()
            self._waiting.discard(key)
            self._running.add(key)
            try:
                delay = await self._work(key)
            except Exception:  # one key's failure must not stop the worker
                _log.exception("reconcile of %s failed", key)
                delay = 30.0
            finally:
                self._running.discard(key)
            if delay is not None:
                self.add_later(key, delay)
            if key in self._again:
                self._again.discard(key)
                self.add([key])
            self._on_depth(self.depth)
