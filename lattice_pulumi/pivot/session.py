"""Run a move from kubeconfig files: connect (lightkube, via :mod:`lattice_pulumi.kube`),
drive the :class:`~lattice_pulumi.pivot.mover.Mover`, close the clients.

The three entry points the CLI, the Pulumi ``Pivot`` resource and tests call:
:func:`move_clusters`, :func:`save_to_directory`, :func:`restore_from_directory`.
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from pathlib import Path

from lattice_pulumi import kube
from lattice_pulumi.pivot.access import ClusterAccess
from lattice_pulumi.pivot.events import Observer, ignore
from lattice_pulumi.pivot.mover import DEFAULT_OPTIONS, MoveOptions, Mover, MoveResult

__all__ = ["move_clusters", "restore_from_directory", "save_to_directory"]

_TIMEOUT = 30.0
_FIELD_MANAGER = "lattice-pivot"


@contextlib.asynccontextmanager
async def _access(kubeconfig: Path | None, name: str) -> AsyncIterator[ClusterAccess | None]:
    if kubeconfig is None:
        yield None
        return
    client = kube.connect(kubeconfig, field_manager=_FIELD_MANAGER, timeout=_TIMEOUT)
    try:
        yield ClusterAccess(client, name)
    finally:
        await client.aclose()


async def move_clusters(
    source: Path, target: Path, options: MoveOptions = DEFAULT_OPTIONS, observer: Observer = ignore
) -> MoveResult:
    """Move the selected Clusters from the ``source`` kubeconfig's cluster to ``target``'s."""
    async with _access(source, "source") as src, _access(target, "target") as dst:
        return await Mover(src, dst, options, observer).move()


async def save_to_directory(
    source: Path,
    directory: Path,
    options: MoveOptions = DEFAULT_OPTIONS,
    observer: Observer = ignore,
) -> MoveResult:
    """Back up the selected Clusters' objects into ``directory``."""
    async with _access(source, "source") as src:
        return await Mover(src, None, options, observer).to_directory(directory)


async def restore_from_directory(
    directory: Path,
    target: Path,
    options: MoveOptions = DEFAULT_OPTIONS,
    observer: Observer = ignore,
) -> MoveResult:
    """Restore a backup made by :func:`save_to_directory` into ``target``."""
    async with _access(target, "target") as dst:
        return await Mover(None, dst, options, observer).from_directory(directory)
