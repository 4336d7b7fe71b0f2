"""The cell's read API for operators: ``FleetService.GetFleet`` on the cell's mTLS port.

Who may read: only a client certificate from the cell's CA carrying an *operator* identity
(``spiffe://<domain>/operator/<name>``, issued by ``lattice cell operator-cert``). A
cluster's certificate is refused with PERMISSION_DENIED, whichever cluster it names: a
child has no business reading its parent's fleet (its siblings, its parent's health), and
the root cluster needs no certificate of its own cell to read it (its operator runs next to
the cell). Certificates from other CAs, expired ones and anonymous clients never reach this
servicer (the TLS handshake fails). Used by :class:`lattice_pulumi.cell.server.CellServer`.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from typing import Any

import grpc

from lattice_pulumi import pki
from lattice_pulumi.cell.config import CellConfig
from lattice_pulumi.cell.registry import ClusterRegistry
from lattice_pulumi.protocol import pb

__all__ = ["FleetService", "build_fleet_view"]

log = logging.getLogger(__name__)


def build_fleet_view(
    config: CellConfig,
    registry: ClusterRegistry,
    status: pb.Heartbeat | None,
    started_ms: int,
) -> pb.FleetView:
    """The cell's own cluster (from ``status``, if known) and its whole subtree."""
    cell = pb.SubtreeCluster(
        name=config.name,
        connected=True,
        kubernetes_version=config.kubernetes_version,
        provider=config.provider,
        role=config.role,
        agent_version=config.cell_version,
        first_seen_unix_ms=started_ms,
    )
    if status is not None:
        cell.state = status.state
        cell.health.CopyFrom(status.health)
        cell.last_heartbeat_unix_ms = status.sent_unix_ms
    return pb.FleetView(
        cell=cell,
        clusters=list(registry.subtree_snapshot().clusters),
        generated_unix_ms=int(time.time() * 1000),
        cell_version=config.cell_version,
    )


class FleetService:
    """Servicer registered with ``pb_grpc.add_FleetServiceServicer_to_server``."""

    def __init__(
        self,
        config: CellConfig,
        registry: ClusterRegistry,
        status: Callable[[], pb.Heartbeat] | None = None,
    ) -> None:
        self._config = config
        self._registry = registry
        self._status = status
        self._started_ms = int(time.time() * 1000)

    def _operator(self, context: Any) -> pki.OperatorIdentity:
        pems = context.auth_context().get("x509_pem_cert") or []
        if len(pems) != 1:
            raise _Refused(grpc.StatusCode.UNAUTHENTICATED, "a client certificate is required")
        try:
            cert = pki.load_certificate(pems[0])
            return pki.operator_from_certificate(cert, self._config.trust_domain)
        except pki.CertificateError as exc:
            log.warning("refused fleet read: %s", exc)
            raise _Refused(
                grpc.StatusCode.PERMISSION_DENIED,
                f"reading the fleet needs an operator certificate: {exc}",
            ) from exc

    async def GetFleet(  # noqa: N802
        self, request: pb.GetFleetRequest, context: Any
    ) -> pb.FleetView:
        try:
            operator = self._operator(context)
        except _Refused as exc:
            await context.abort(exc.code, exc.details)
            raise AssertionError("unreachable: abort raises") from exc
        log.debug("fleet view read by operator %s", operator.name)
        status = self._status() if self._status is not None else None
        return build_fleet_view(self._config, self._registry, status, self._started_ms)


class _Refused(Exception):
    def __init__(self, code: grpc.StatusCode, details: str) -> None:
        super().__init__(details)
        self.code = code
        self.details = details
