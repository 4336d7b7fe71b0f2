"""Bounded retries for the mover's reads and writes (separate budgets, as clusterctl has).

Only transient failures are retried: no answer at all, 429 and 5xx. Everything else (a
refusal, a missing kind) is raised at once, so a broken move fails fast and says why.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import TypeVar

from lattice_pulumi.kube import KubeError

__all__ = ["READS", "WRITES", "RetryBudget", "is_transient", "with_retries"]

log = logging.getLogger(__name__)
T = TypeVar("T")

_TRANSIENT_STATUS = frozenset({0, 429, 500, 502, 503, 504})


@dataclass(frozen=True)
class RetryBudget:
    """How often and how patiently one kind of call is retried."""

    attempts: int
    first_delay: float
    max_delay: float


READS = RetryBudget(attempts=5, first_delay=0.1, max_delay=2.0)
WRITES = RetryBudget(attempts=6, first_delay=0.2, max_delay=5.0)


def is_transient(error: BaseException) -> bool:
    """Whether trying the same call again may succeed."""
    return isinstance(error, KubeError) and error.status in _TRANSIENT_STATUS


async def with_retries(call: Callable[[], Awaitable[T]], budget: RetryBudget, what: str) -> T:
    """``await call()``, retrying transient failures with doubling delays within ``budget``."""
    delay = budget.first_delay
    for attempt in range(1, budget.attempts + 1):
        try:
            return await call()
        except KubeError as error:
            if not is_transient(error) or attempt == budget.attempts:
                raise
            log.warning(
                "%s failed (attempt %d/%d), retrying: %s", what, attempt, budget.attempts, error
            )
            await asyncio.sleep(delay)
            delay = min(delay * 2, budget.max_delay)
    raise AssertionError("unreachable: the last attempt returns or raises")
