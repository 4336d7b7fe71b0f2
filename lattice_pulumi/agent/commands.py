"""What the agent does with commands from the cell.

Status requests are answered by the agent itself; applying manifests and syncing distributed
resources are delegated to a :class:`CommandHandler` (the in-cluster operator provides one
backed by the Kubernetes client). Without a handler, or for a command kind this agent does
not know (a newer cell), the reply says so instead of failing the session.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Protocol

from lattice_pulumi.agent.status import StatusSource
from lattice_pulumi.protocol import pb

__all__ = ["CommandHandler", "answer"]

log = logging.getLogger(__name__)


class CommandHandler(Protocol):
    """Applies what the cell asks for inside the agent's cluster."""

    async def apply_manifests(self, command: pb.ApplyManifests) -> pb.ApplyResult: ...

    async def sync_resources(self, command: pb.SyncResources) -> pb.ApplyResult: ...


async def answer(
    command: pb.CellCommand,
    status: StatusSource,
    subtree: Callable[[], pb.SubtreeState] | None,
    handler: CommandHandler | None,
) -> pb.CommandReply | None:
    """The reply to ``command`` (``None`` for messages that take no reply, e.g. Welcome)."""
    kind = command.WhichOneof("body")
    reply = pb.CommandReply(request_id=command.request_id, ok=True)
    if kind == "welcome":
        return None
    if kind == "status_request":
        reply.status.heartbeat.CopyFrom(status.heartbeat())
        if subtree is not None:
            reply.status.subtree.CopyFrom(subtree())
        return reply
    if kind in ("apply_manifests", "sync_resources") and handler is not None:
        try:
            if kind == "apply_manifests":
                result = await handler.apply_manifests(command.apply_manifests)
            else:
                result = await handler.sync_resources(command.sync_resources)
        except Exception as exc:  # a failed apply is reported, not fatal to the session
            log.warning("command %s failed: %s", kind, exc)
            return pb.CommandReply(request_id=command.request_id, ok=False, error=str(exc))
        reply.apply.CopyFrom(result)
        return reply
    what = kind or "unknown command"
    return pb.CommandReply(
        request_id=command.request_id, ok=False, error=f"{what} is not supported by this agent"
    )
