"""The dependents queue and the kopf registry the operator runs."""

from __future__ import annotations

import asyncio
from types import SimpleNamespace
from typing import cast

import kopf

from lattice_pulumi.operator import handlers
from lattice_pulumi.operator.queue import WorkQueue
from lattice_pulumi.operator.runtime import Operator


async def test_keys_added_while_waiting_are_worked_once_and_again_after_a_change() -> None:
    seen: list[str] = []
    gate = asyncio.Event()

    async def work(key: str) -> float | None:
        seen.append(key)
        await gate.wait()
        return None

    queue = WorkQueue(work, workers=1)
    queue.add(["a", "a", "b"])
    queue.start()
    await asyncio.sleep(0.01)
    queue.add(["a"])  # a is running: once more afterwards
    gate.set()
    await asyncio.wait_for(queue.join(), 2)
    await queue.stop()
    assert seen == ["a", "b", "a"]


async def test_a_delay_brings_the_key_back() -> None:
    calls: list[str] = []

    async def work(key: str) -> float | None:
        calls.append(key)
        return 0.01 if len(calls) == 1 else None

    queue = WorkQueue(work, workers=1)
    queue.start()
    queue.add(["a"])
    for _ in range(100):
        if len(calls) == 2:
            break
        await asyncio.sleep(0.01)
    await queue.stop()
    assert calls == ["a", "a"]


def test_kopf_keeps_its_bookkeeping_in_our_annotations() -> None:
    settings = kopf.OperatorSettings()
    handlers.configure(settings)
    assert isinstance(settings.persistence.progress_storage, kopf.AnnotationsProgressStorage)
    assert settings.persistence.finalizer == "operator.lattice.dev/finalizer"
    assert settings.posting.enabled is False


def test_latticeservices_are_only_watched_so_kopf_writes_nothing_on_them() -> None:
    # only what build_registry reads while registering: the catalog and the cluster's name
    stand_in = SimpleNamespace(
        catalog=None, state=SimpleNamespace(cluster=SimpleNamespace(name="self"))
    )
    registry = handlers.build_registry(cast(Operator, stand_in))
    changing = {h.selector.any_name for h in registry._changing.get_all_handlers()}
    watching = {h.id.rsplit(".", 1)[-1] for h in registry._watching.get_all_handlers()}
    assert "latticeservices" not in changing  # no create/update/resume: no kopf annotations
    assert "service_event" in watching
