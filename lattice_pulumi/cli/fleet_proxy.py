"""The API proxy's part of ``lattice cell serve`` and ``lattice agent run``: options, wiring.

A cell serves the proxy when given ``--proxy-port``: bearer tokens are reviewed by the API
server of ``--review-kubeconfig`` (default: ``--kubeconfig``, or the pod's service account)
for ``--token-audience`` (and ``--oidc-issuer`` tokens are verified against that issuer's
keys, audience ``--oidc-client-id``), Cedar policies come from ``--policies`` (files or directories;
none means everything is denied) and decisions are appended to ``--audit-log``;
``--proxy-request-timeout`` bounds a request (not watches or followed logs) and
``--proxy-idle-timeout`` an exec / attach / port-forward with no bytes moving. Policy
problems are reported on stderr before anything listens, with file and statement.
:func:`agent_backends` gives an agent its two proxy backends: this cluster's API server (a
client is needed) and, for a cell with a parent, forwarding to the clusters below.
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated

import typer
from lightkube import AsyncClient

from lattice_pulumi import kube, pki
from lattice_pulumi.agent import KubeProxy
from lattice_pulumi.agent.proxy import Backend
from lattice_pulumi.cell import (
    AuditLog,
    CellServer,
    ChainAuthenticator,
    OIDCAuthenticator,
    OIDCConfig,
    ProxyConfig,
    ProxyServer,
    TokenReviewAuthenticator,
)
from lattice_pulumi.cli import output
from lattice_pulumi.errors import LatticeError
from lattice_pulumi.policy import CedarAuthorizer, load_policy_files

__all__ = [
    "DEFAULT_AUDIENCE",
    "AuditLogOption",
    "IdleTimeoutOption",
    "LabelsOption",
    "OIDCCAOption",
    "OIDCClientOption",
    "OIDCIssuerOption",
    "PoliciesOption",
    "ProxyOptions",
    "ProxyPortOption",
    "RequestTimeoutOption",
    "ReviewKubeconfigOption",
    "TokenAudienceOption",
    "agent_backends",
    "parse_labels",
    "serving_proxy",
]

DEFAULT_AUDIENCE = "lattice"

ProxyPortOption = Annotated[
    int | None,
    typer.Option(
        "--proxy-port",
        envvar="LATTICE_CELL_PROXY_PORT",
        help="Serve the HTTPS API proxy (/clusters/<name>/...) on this port (0: any free).",
    ),
]
PoliciesOption = Annotated[
    list[Path] | None,
    typer.Option(
        "--policies", envvar="LATTICE_CELL_POLICIES", help="Cedar policies (files or dirs)."
    ),
]
TokenAudienceOption = Annotated[
    list[str] | None,
    typer.Option(
        "--token-audience",
        envvar="LATTICE_CELL_TOKEN_AUDIENCE",
        help=f"Audience bearer tokens must carry (default {DEFAULT_AUDIENCE!r}).",
    ),
]
ReviewKubeconfigOption = Annotated[
    Path | None,
    typer.Option(
        "--review-kubeconfig",
        envvar="LATTICE_CELL_REVIEW_KUBECONFIG",
        help="API server that reviews tokens (default: --kubeconfig or the pod's account).",
    ),
]
AuditLogOption = Annotated[
    Path | None,
    typer.Option("--audit-log", envvar="LATTICE_CELL_AUDIT_LOG", help="JSON-lines audit file."),
]
OIDCIssuerOption = Annotated[
    str | None,
    typer.Option("--oidc-issuer", envvar="LATTICE_OIDC_ISSUER", help="Trusted OIDC issuer URL."),
]
OIDCClientOption = Annotated[
    str | None,
    typer.Option("--oidc-client-id", envvar="LATTICE_OIDC_CLIENT_ID", help="Token audience."),
]
OIDCCAOption = Annotated[
    Path | None,
    typer.Option("--oidc-ca", envvar="LATTICE_OIDC_CA", help="CA of the issuer's HTTPS."),
]
RequestTimeoutOption = Annotated[
    float,
    typer.Option(
        "--proxy-request-timeout",
        envvar="LATTICE_CELL_PROXY_REQUEST_TIMEOUT",
        min=1.0,
        help="Seconds a proxied request may take (watches and followed logs: unbounded).",
    ),
]
IdleTimeoutOption = Annotated[
    float,
    typer.Option(
        "--proxy-idle-timeout",
        envvar="LATTICE_CELL_PROXY_IDLE_TIMEOUT",
        min=1.0,
        help="Seconds an exec/attach/port-forward may sit with no bytes moving (kubelet's "
        "streaming idle timeout is 4h too).",
    ),
]
LabelsOption = Annotated[
    list[str] | None,
    typer.Option("--label", envvar="LATTICE_CLUSTER_LABELS", help="Cluster label KEY=VALUE."),
]


def parse_labels(items: list[str] | None) -> dict[str, str]:
    """``["env=prod", "region=eu"]`` as a dict; a malformed item is a one-line error."""
    labels: dict[str, str] = {}
    for item in items or []:
        key, sep, value = item.partition("=")
        if not sep or not key.strip():
            raise LatticeError(f"--label {item!r}: expected KEY=VALUE")
        labels[key.strip()] = value.strip()
    return labels


@dataclass(frozen=True)
class ProxyOptions:
    """What ``cell serve`` was told about the proxy."""

    port: int | None
    policies: list[Path]
    audiences: list[str]
    review_kubeconfig: Path | None
    audit_log: Path | None
    host: str = "127.0.0.1"
    oidc_issuer: str | None = None
    oidc_client_id: str | None = None
    oidc_ca: Path | None = None
    request_timeout: float = ProxyConfig.request_timeout
    idle_timeout: float = ProxyConfig.upgrade_idle_timeout

    def config(self) -> ProxyConfig:
        """Where the proxy listens and its time limits."""
        return ProxyConfig(
            host=self.host,
            port=self.port or 0,
            request_timeout=self.request_timeout,
            upgrade_idle_timeout=self.idle_timeout,
        )

    def oidc(self) -> tuple[OIDCAuthenticator, ...]:
        """The OIDC issuer trusted besides TokenReview, if one is configured."""
        if self.oidc_issuer is None:
            return ()
        if not self.oidc_client_id:
            raise LatticeError("--oidc-issuer needs --oidc-client-id (the token audience)")
        try:
            ca_pem = self.oidc_ca.read_bytes() if self.oidc_ca is not None else None
        except OSError as exc:
            raise LatticeError(f"cannot read {self.oidc_ca}: {exc.strerror}") from None
        config = OIDCConfig(self.oidc_issuer, self.oidc_client_id, ca_pem=ca_pem)
        return (OIDCAuthenticator(config),)


def _authorizer(paths: list[Path]) -> CedarAuthorizer:
    sources, problems = load_policy_files(paths)
    authorizer = CedarAuthorizer(sources)
    problems = [*problems, *authorizer.report.problems]
    for problem in problems:
        output.err.print(f"{problem.location()}: {problem.message}", markup=False)
    if problems:
        raise LatticeError(f"{len(problems)} problem(s) in the proxy's policies; nothing served")
    return authorizer


@contextlib.asynccontextmanager
async def serving_proxy(
    options: ProxyOptions, cell: CellServer, certificate: pki.IssuedCertificate
) -> AsyncIterator[ProxyServer | None]:
    """The running proxy of ``cell`` (``None`` without ``--proxy-port``), stopped on exit."""
    if options.port is None:
        yield None
        return
    authorizer = _authorizer(options.policies)
    oidc = options.oidc()
    if options.review_kubeconfig is None and not kube.in_cluster():
        raise LatticeError("the API proxy needs --review-kubeconfig (or to run in a pod)")
    client = kube.connect(options.review_kubeconfig, field_manager="lattice-cell")
    audit = AuditLog(options.audit_log)
    proxy = ProxyServer(
        cell.tunnels,
        cell.registry,
        ChainAuthenticator(
            oidc, TokenReviewAuthenticator(client, options.audiences or [DEFAULT_AUDIENCE])
        ),
        authorizer,
        certificate,
        audit=audit,
        config=options.config(),
    )
    await proxy.start()
    try:
        yield proxy
    finally:
        await proxy.stop()
        audit.close()
        await client.aclose()


def agent_backends(
    client: AsyncClient | None, cell: CellServer | None = None
) -> tuple[Backend | None, Backend | None]:
    """The ``kube_proxy`` and ``forward`` backends of an :class:`Agent`."""
    local = KubeProxy(kube.http_client(client)) if client is not None else None
    return local, (cell.tunnels.forward if cell is not None else None)
