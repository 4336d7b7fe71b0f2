"""Run one move in a fresh process and die abruptly at the step ``PIVOT_CRASH_AT`` names.

``discover``, ``preflight`` or ``pause``: right after that phase; ``create:N`` or
``delete:N``: as soon as the first object of group N is written, the rest of the group still
in flight. ``os._exit`` skips every cleanup, as a killed process would. Usage:
``python pivot_crash_runner.py SOURCE_KUBECONFIG TARGET_KUBECONFIG CLUSTER NAMESPACE``.
"""

from __future__ import annotations

import asyncio
import os
import sys
from pathlib import Path

from lattice_pulumi.pivot import EventKind, MoveOptions, PivotEvent
from lattice_pulumi.pivot.session import move_clusters

CRASH_EXIT = 75


def crash_observer(spec: str):  # type: ignore[no-untyped-def]
    phase, _, group = spec.partition(":")

    def observe(event: PivotEvent) -> None:
        if event.phase != phase:
            return
        if not group and event.kind is EventKind.PHASE_DONE:
            os._exit(CRASH_EXIT)
        if group and event.kind is EventKind.OBJECT_DONE and event.group == int(group):
            os._exit(CRASH_EXIT)

    return observe


def main() -> None:
    source, target, cluster, namespace = sys.argv[1:5]
    options = MoveOptions(cluster=cluster, namespace=namespace)
    observer = crash_observer(os.environ.get("PIVOT_CRASH_AT", ""))
    asyncio.run(move_clusters(Path(source), Path(target), options, observer))


if __name__ == "__main__":
    main()
