"""The cell as the parent's operator uses it: tokens, CA, and what children report.

``FleetLink`` fulfils ``lattice_pulumi.operator.children.link.CellLink`` structurally (the
operator and the cell do not import each other): it mints bootstrap tokens in the cell's
token store (``cell.state.CellState``: the same ``tokens.json`` a running ``lattice cell
serve`` redeems from, under its lock), names the CA children pin, and reads whether a
child's agent is connected, with its last health conditions, from the cell's own read
API (``FleetService.GetFleet`` over mTLS, as ``lattice get`` does) with an operator
certificate it issues itself from the cell CA at start. The operator process and the
cell may therefore be separate processes of the parent (as in the tests) or one.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import grpc

from lattice_pulumi import pki
from lattice_pulumi.cell.errors import CellError
from lattice_pulumi.cell.state import CellState
from lattice_pulumi.protocol import channel_options, pb, pb_grpc

__all__ = ["ChildSession", "FleetLink"]

_OPERATOR_NAME = "lattice-operator"


@dataclass(frozen=True)
class ChildSession:
    """A child as the cell's fleet view shows it."""

    connected: bool
    conditions: Sequence[pb.Condition]


class FleetLink:
    """Tokens from the state directory, reports from the cell's gRPC endpoint."""

    def __init__(
        self,
        state: CellState,
        *,
        server: str,
        bootstrap_endpoint: str,
        token_ttl: timedelta = timedelta(hours=2),
        tls_server_name: str | None = None,
        timeout: float = 10.0,
    ) -> None:
        self._state = state
        self._server = server
        self._endpoint = bootstrap_endpoint.rstrip("/")
        self._ttl = token_ttl
        self._timeout = timeout
        identity = pki.OperatorIdentity(_OPERATOR_NAME, pki.DEFAULT_TRUST_DOMAIN)
        issued = state.ca.issue_operator_certificate(identity, lifetime=timedelta(days=7))
        self._credentials = grpc.ssl_channel_credentials(
            root_certificates=state.ca.certificate_pem(),
            private_key=issued.key_pem(),
            certificate_chain=issued.certificate_pem(),
        )
        self._options: list[tuple[str, Any]] = channel_options(client=True)
        if tls_server_name:
            self._options.append(("grpc.ssl_target_name_override", tls_server_name))

    @property
    def bootstrap_endpoint(self) -> str:
        return self._endpoint

    @property
    def parent_ca_pem(self) -> str:
        return self._state.ca.certificate_pem().decode()

    def issue_token(self, cluster: str) -> pki.IssuedToken:
        """A one-time token for ``cluster``; only its hash is written to the store."""
        return self._state.tokens.issue(cluster, self._ttl)

    async def child_report(self, cluster: str) -> ChildSession | None:
        """The child's session and last conditions; ``None`` if the cell never saw it.

        ``CellError`` when the cell cannot be reached (the operator retries later).
        """
        async with grpc.aio.secure_channel(
            self._server, self._credentials, options=self._options
        ) as channel:
            try:
                view = await pb_grpc.FleetServiceStub(channel).GetFleet(
                    pb.GetFleetRequest(), timeout=self._timeout
                )
            except grpc.aio.AioRpcError as exc:
                raise CellError(
                    f"cell {self._server}: {exc.code().name}: {exc.details()}"
                ) from None
        for entry in view.clusters:
            if entry.name == cluster:
                return ChildSession(entry.connected, tuple(entry.health.conditions))
        return None
