"""Run one move in a fresh process and die abruptly at the step ``PIVOT_CRASH_AT`` names.

``discover``, ``preflight``, ``pause`` or ``reread``: right after that phase;
``create:N`` or ``delete:N``: as soon as the first object of group N is written, the rest of
the group still in flight; ``create:N:done``, ``delete:N:done``: once group N is written,
before the next begins. ``os._exit`` skips every cleanup, as a killed process would.

Between discovery and the pause the runner changes the Secret ``PIVOT_CHANGE_SECRET``
(namespace ``NAMESPACE``) in the source, as a user or controller might: its data becomes
:data:`CHANGED`, which the target must end up with. Usage:
``python pivot_crash_runner.py SOURCE_KUBECONFIG TARGET_KUBECONFIG CLUSTER NAMESPACE``.
"""

from __future__ import annotations

import asyncio
import base64
import os
import sys
from collections.abc import Callable
from pathlib import Path

from lightkube import Client, KubeConfig
from lightkube.resources.core_v1 import Secret
from lightkube.types import PatchType

from lattice_pulumi.pivot import EventKind, MoveOptions, PivotEvent
from lattice_pulumi.pivot.session import move_clusters

CRASH_EXIT = 75
CHANGED = {"value": base64.b64encode(b"changed between discovery and pause").decode()}


def change_secret(kubeconfig: str, name: str, namespace: str) -> None:
    """Write :data:`CHANGED` into the Secret (a synchronous client: the move is mid-step)."""
    client = Client(KubeConfig.from_file(kubeconfig))
    try:
        client.patch(
            Secret, name, {"data": CHANGED}, namespace=namespace, patch_type=PatchType.MERGE
        )
    finally:
        client.close()


def crash_observer(spec: str, on_discovered: Callable[[], None]) -> Callable[[PivotEvent], None]:
    phase, _, rest = spec.partition(":")
    group, _, when = rest.partition(":")
    crash_kind = EventKind.GROUP_DONE if when == "done" else EventKind.OBJECT_DONE

    def observe(event: PivotEvent) -> None:
        if event.phase == "discover" and event.kind is EventKind.PHASE_DONE:
            on_discovered()
        if event.phase != phase:
            return
        if not group and event.kind is EventKind.PHASE_DONE:
            os._exit(CRASH_EXIT)
        if group and event.kind is crash_kind and event.group == int(group):
            os._exit(CRASH_EXIT)

    return observe


def main() -> None:
    source, target, cluster, namespace = sys.argv[1:5]
    options = MoveOptions(cluster=cluster, namespace=namespace)
    secret = os.environ.get("PIVOT_CHANGE_SECRET", "")

    def on_discovered() -> None:
        if secret:
            change_secret(source, secret, namespace)

    observer = crash_observer(os.environ.get("PIVOT_CRASH_AT", ""), on_discovered)
    asyncio.run(move_clusters(Path(source), Path(target), options, observer))


if __name__ == "__main__":
    main()
