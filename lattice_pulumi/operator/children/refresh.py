"""Keep the add-on health of Ready children current, without a kopf timer.

A kopf timer would make kopf's finalizer mandatory on every LatticeCluster, so a parent
that is gone would leave its clusters undeletable. Instead the handlers feed watch events
in (``observe``, ``forget``) and one task (``run``) calls ``ChildReconciler.refresh`` for
each known child every ``interval`` seconds; failures are logged and retried next round.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Mapping
from typing import Any

from lattice_pulumi.errors import LatticeError
from lattice_pulumi.operator.children.reconcile import ChildReconciler

__all__ = ["ChildRefresher"]

_log = logging.getLogger(__name__)


class ChildRefresher:
    """The latest body of each child, refreshed on a fixed interval."""

    def __init__(self, reconciler: ChildReconciler, interval: float = 30.0) -> None:
        self.reconciler = reconciler
        self.interval = interval
        self.bodies: dict[str, dict[str, Any]] = {}
        self._task: asyncio.Task[None] | None = None

    def observe(self, body: Mapping[str, Any]) -> None:
        self.bodies[body["metadata"]["name"]] = dict(body)

    def forget(self, body: Mapping[str, Any]) -> None:
        self.bodies.pop(body["metadata"]["name"], None)

    def start(self) -> None:
        if self._task is None:
            self._task = asyncio.create_task(self._run(), name="lattice-children-refresh")

    async def stop(self) -> None:
        task, self._task = self._task, None
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task

    async def refresh_all(self) -> None:
        for name, body in sorted(self.bodies.items()):
            try:
                await self.reconciler.refresh(body)
            except LatticeError as exc:
                _log.warning("add-on health of %s not refreshed: %s", name, exc)

    async def _run(self) -> None:
        while True:
            await asyncio.sleep(self.interval)
            await self.refresh_all()
