"""``lattice cell serve|token|operator-cert`` and ``lattice agent run``: the fleet processes.

``cell serve`` and ``agent run`` are also the entry points of the in-cluster image: every
flag has a ``LATTICE_*`` environment variable, they run until SIGTERM or SIGINT and then
shut down cleanly (sessions closed, enrolment server stopped, exit code 0). A cell keeps its
CA and token hashes in ``--state-dir`` (see ``lattice_pulumi.cell.state``); an agent keeps
its key and certificates in ``--credentials-dir`` and enrols first when that is empty.
A cell given ``--parent`` also runs an agent for its own cluster that reports the cell's
whole subtree upward (how a three-level hierarchy is built).
With a Kubernetes API a cell distributes the CedarPolicies, CloudProviders and SecretProviders
of its cluster to its children (``cell.distribution``), and every agent applies what its
parent hands down (``agent.distribution``).

With a Kubernetes API (``--kubeconfig``, or the pod's service account when
``KUBERNETES_SERVICE_HOST`` is set) ``agent run`` and the upstream agent of
``cell serve --parent`` report node health and the Kubernetes version
(``agent.health.HealthWatcher``, one helper: :func:`_watched_cluster`). ``agent run`` also
keeps its credentials in the Secret ``--credentials-secret`` of ``--namespace``, so a
replaced pod (empty credentials directory, burnt bootstrap token) loads them from there
instead of enrolling again; once a session with the cell was welcomed and that Secret holds
the credentials, it removes the burnt token from ``--bootstrap-secret`` (``ca.crt`` stays).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import os
import signal
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import timedelta
from pathlib import Path
from typing import Annotated

import typer
from lightkube import AsyncClient

from lattice_pulumi import kube, pki
from lattice_pulumi.agent import Agent, AgentConfig, AgentCredentials, StatusHolder, enrol
from lattice_pulumi.agent.distribution import DistributionHandler
from lattice_pulumi.agent.health import HealthWatcher
from lattice_pulumi.agent.secret_store import (
    BOOTSTRAP_SECRET,
    CREDENTIALS_SECRET,
    FIELD_MANAGER,
    BootstrapSecret,
    SecretCredentialStore,
)
from lattice_pulumi.cell import (
    AgentBundles,
    CellConfig,
    CellServer,
    CellState,
    EnrolmentServer,
    ProxyConfig,
)
from lattice_pulumi.cell.distribution import Distributor
from lattice_pulumi.cell.state import write_private
from lattice_pulumi.cli import fleet_proxy, output
from lattice_pulumi.compile.agent import AGENT_IMAGE, NAMESPACE
from lattice_pulumi.errors import LatticeError
from lattice_pulumi.protocol import pb

__all__ = ["register", "run_until_signalled"]

log = logging.getLogger(__name__)

SERVING_FILE = "serving.json"  # written into the state dir once the cell listens


async def run_until_signalled(main: Callable[[asyncio.Event], Awaitable[None]]) -> None:
    """Run ``main(stop)``; SIGTERM and SIGINT set ``stop`` instead of killing the process."""
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    try:
        await main(stop)
    finally:
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.remove_signal_handler(sig)


def _run(main: Callable[[asyncio.Event], Awaitable[None]]) -> None:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s %(message)s")
    try:
        asyncio.run(run_until_signalled(main))
    except LatticeError as exc:
        output.fail(exc)


StateDir = Annotated[
    Path, typer.Option("--state-dir", envvar="LATTICE_CELL_STATE_DIR", help="CA and tokens.")
]


def _agent_config(cluster: str, endpoint: str, interval: float, **extra: object) -> AgentConfig:
    try:
        return AgentConfig(cluster=cluster, endpoint=endpoint, heartbeat_interval=interval, **extra)  # type: ignore[arg-type]
    except (ValueError, pki.CertificateError) as exc:
        raise LatticeError(str(exc)) from None


Kubeconfig = Annotated[
    Path | None,
    typer.Option(
        "--kubeconfig",
        envvar="LATTICE_KUBECONFIG",
        help="Kubeconfig of this cluster (default: the pod's service account in a pod).",
    ),
]


@contextlib.asynccontextmanager
async def _watched_cluster(
    kubeconfig: Path | None, namespace: str, interval: float, unwatched: str = ""
) -> AsyncIterator[tuple[AsyncClient | None, StatusHolder]]:
    """A client of this cluster (``None`` without ``--kubeconfig`` outside a pod) and a
    status its :class:`HealthWatcher` refreshes every ``interval`` seconds.

    The first refresh is done before this yields, so the first Hello and heartbeat carry
    real figures. Without a client the state is ``UNSPECIFIED`` and a warning (plus
    ``unwatched``) is logged. On exit the watcher is stopped and the client closed.
    """
    client: AsyncClient | None = None
    if kubeconfig is not None or kube.in_cluster():
        client = kube.connect(kubeconfig, namespace=namespace, field_manager=FIELD_MANAGER)
    else:
        log.warning("no --kubeconfig and not in a pod: node health is not reported%s", unwatched)
    status = StatusHolder()
    watcher: HealthWatcher | None = None
    watching: asyncio.Task[None] | None = None
    try:
        if client is None:
            status.state = pb.CLUSTER_STATE_UNSPECIFIED  # nothing watches the cluster
        else:
            watcher = HealthWatcher(client, status, interval)
            await watcher.refresh()
            watching = asyncio.create_task(watcher.run())
        yield client, status
    finally:
        if watcher is not None and watching is not None:
            await watcher.stop()
            async with asyncio.timeout(10):
                await asyncio.gather(watching, return_exceptions=True)
        if client is not None:
            await client.aclose()


class _TokenForgetter:
    """Removes the burnt token from the bootstrap Secret once; the retry policy of it.

    A missing permission (HTTP 403: a bundle from before the Role allowed it) is logged once
    and not retried; other failures are retried on each call, logged once.
    """

    def __init__(self, secret: BootstrapSecret) -> None:
        self.secret = secret
        self.done = False
        self._warned = False

    async def __call__(self) -> None:
        if self.done:
            return
        try:
            await self.secret.forget_token()
        except kube.KubeError as exc:
            if exc.status == 403:
                log.warning("the burnt bootstrap token stays in %r: %s", self.secret, exc)
                self.done = True
            elif not self._warned:
                log.warning("token not removed from %r (will retry): %s", self.secret, exc)
                self._warned = True
            return
        self.done = True


async def _hold_agent(
    agent: Agent,
    directory: Path | None,
    stop: asyncio.Event,
    store: SecretCredentialStore | None = None,
    stored_serial: int | None = None,
    forget_token: _TokenForgetter | None = None,
) -> None:
    """Run ``agent`` until ``stop``; save renewed credentials to ``directory`` and ``store``.

    ``stored_serial`` is the serial already in ``store``; a failed save is retried each
    second (logged once per certificate) until it lands. ``forget_token`` runs once the
    cell welcomed a session *and* ``store`` holds the current credentials (never without
    a store: the token is the only way back in when the credentials are kept nowhere).
    """
    task = asyncio.create_task(agent.run())
    waiter = asyncio.create_task(stop.wait())
    serial = agent.credentials.serial
    warned: int | None = None
    try:
        while not task.done() and not stop.is_set():
            current = agent.credentials
            if directory is not None and current.serial != serial:
                current.save(directory)
                serial = current.serial
            if store is not None and current.serial != stored_serial:
                try:
                    await store.save(current)
                    stored_serial = current.serial
                except LatticeError as exc:
                    if warned != current.serial:
                        log.warning("credentials not saved to %r (will retry): %s", store, exc)
                        warned = current.serial
            if (
                forget_token is not None
                and store is not None
                and agent.sessions > 0
                and stored_serial == current.serial
            ):
                await forget_token()
                if forget_token.done:
                    forget_token = None
            await asyncio.wait([task, waiter], timeout=1.0, return_when=asyncio.FIRST_COMPLETED)
    finally:
        waiter.cancel()
        await agent.stop()
        async with asyncio.timeout(10):
            await asyncio.gather(task, waiter, return_exceptions=True)
    if not stop.is_set():
        task.result()  # a permanent error (identity refused, version skew) ends the command


def serve(
    name: Annotated[str, typer.Option("--name", envvar="LATTICE_CELL_NAME", help="Cluster name.")],
    state_dir: StateDir,
    host: Annotated[str, typer.Option("--host", envvar="LATTICE_CELL_HOST")] = "127.0.0.1",
    port: Annotated[int, typer.Option("--port", envvar="LATTICE_CELL_PORT")] = 50051,
    enrol_port: Annotated[
        int, typer.Option("--enrol-port", envvar="LATTICE_CELL_ENROL_PORT")
    ] = 8443,
    san: Annotated[
        list[str] | None,
        typer.Option("--san", envvar="LATTICE_CELL_SAN", help="Name in the server cert."),
    ] = None,
    heartbeat_grace: Annotated[
        float, typer.Option("--heartbeat-grace", envvar="LATTICE_CELL_HEARTBEAT_GRACE")
    ] = 30.0,
    provider: Annotated[str, typer.Option("--provider", envvar="LATTICE_PROVIDER")] = "",
    parent: Annotated[
        str | None,
        typer.Option("--parent", envvar="LATTICE_PARENT_ENDPOINT", help="Parent cell host:port."),
    ] = None,
    parent_credentials: Annotated[
        Path | None,
        typer.Option("--parent-credentials-dir", envvar="LATTICE_AGENT_CREDENTIALS_DIR"),
    ] = None,
    heartbeat_interval: Annotated[
        float, typer.Option("--heartbeat-interval", envvar="LATTICE_HEARTBEAT_INTERVAL")
    ] = 10.0,
    advertise_endpoint: Annotated[
        str,
        typer.Option(
            "--advertise-endpoint",
            envvar="LATTICE_CELL_ADVERTISE_ENDPOINT",
            help="gRPC host:port as children dial it (bootstrap bundles).",
        ),
    ] = "",
    advertise_enrol_url: Annotated[
        str,
        typer.Option(
            "--advertise-enrol-url",
            envvar="LATTICE_CELL_ADVERTISE_ENROL_URL",
            help="Enrolment URL as children reach it (bootstrap bundles).",
        ),
    ] = "",
    agent_image: Annotated[
        str | None,
        typer.Option("--agent-image", envvar="LATTICE_CELL_AGENT_IMAGE", help="Agent image."),
    ] = None,
    kubeconfig: Kubeconfig = None,
    proxy_port: fleet_proxy.ProxyPortOption = None,
    policies: fleet_proxy.PoliciesOption = None,
    token_audience: fleet_proxy.TokenAudienceOption = None,
    review_kubeconfig: fleet_proxy.ReviewKubeconfigOption = None,
    audit_log: fleet_proxy.AuditLogOption = None,
    label: fleet_proxy.LabelsOption = None,
    oidc_issuer: fleet_proxy.OIDCIssuerOption = None,
    oidc_client_id: fleet_proxy.OIDCClientOption = None,
    oidc_ca: fleet_proxy.OIDCCAOption = None,
    proxy_request_timeout: fleet_proxy.RequestTimeoutOption = ProxyConfig.request_timeout,
    proxy_idle_timeout: fleet_proxy.IdleTimeoutOption = ProxyConfig.upgrade_idle_timeout,
) -> None:
    """Serve agents (mTLS gRPC), enrolment, bootstrap bundles and the fleet view until stopped.

    With ``--parent``, the upstream agent reports this cluster's nodes (``--kubeconfig``, or
    the pod's service account in a pod) like ``agent run``, relays API requests for this
    cluster and forwards those for clusters below; a root cell reports no health. With an
    API server every cell distributes its CedarPolicies and providers to its children. With
    ``--proxy-port`` the cell also serves the HTTPS API proxy (``cli.fleet_proxy``).
    """
    try:
        labels = fleet_proxy.parse_labels(label)
    except LatticeError as exc:
        output.fail(exc, code=2)
    proxy_options = fleet_proxy.ProxyOptions(
        port=proxy_port,
        policies=policies or [],
        audiences=token_audience or [],
        review_kubeconfig=review_kubeconfig or kubeconfig,
        audit_log=audit_log,
        host=host,
        oidc_issuer=oidc_issuer,
        oidc_client_id=oidc_client_id,
        oidc_ca=oidc_ca,
        request_timeout=proxy_request_timeout,
        idle_timeout=proxy_idle_timeout,
    )
    if (parent is None) != (parent_credentials is None):
        output.fail(LatticeError("--parent and --parent-credentials-dir go together"), code=2)
    names = san or [host, *(["localhost"] if host in ("127.0.0.1", "::1") else [])]

    async def main(stop: asyncio.Event) -> None:
        if parent is None:
            status = StatusHolder()
            status.state = pb.CLUSTER_STATE_UNSPECIFIED  # a root cell reports no health
            # ... but distributes its CedarPolicies and providers when it has an API server
            client = None
            if kubeconfig is not None or kube.in_cluster():
                client = kube.connect(kubeconfig, namespace=NAMESPACE, field_manager=FIELD_MANAGER)
            try:
                await _serve_cell(stop, status, client)
            finally:
                if client is not None:
                    await client.aclose()
            return
        async with _watched_cluster(kubeconfig, NAMESPACE, heartbeat_interval) as watched:
            await _serve_cell(stop, watched[1], watched[0])

    async def _serve_cell(
        stop: asyncio.Event, status: StatusHolder, client: AsyncClient | None
    ) -> None:
        state = CellState.open(state_dir, name)
        authority = pki.CellAuthority(state.ca)
        certificate = state.ca.issue_server_certificate(names)
        config = CellConfig(
            name=name,
            host=host,
            port=port,
            heartbeat_grace=heartbeat_grace,
            provider=provider,
            role="parent" if parent else "root",
            advertise_endpoint=advertise_endpoint,
            advertise_enrol_url=advertise_enrol_url,
            agent_image=agent_image or AGENT_IMAGE,
        )
        cell = CellServer(config, authority, certificate, status=status.heartbeat)
        bundles = AgentBundles(config, authority, lambda: cell.endpoint)
        enrolment = EnrolmentServer(
            authority, state.tokens, certificate, host=host, port=enrol_port, bundles=bundles
        )
        upstream: Agent | None = None
        if parent is not None and parent_credentials is not None:
            agent_config = _agent_config(
                name, parent, heartbeat_interval, provider=provider, role="parent", labels=labels
            )
            credentials = _load_credentials(parent_credentials)
            local, forward = fleet_proxy.agent_backends(client, cell)
            upstream = Agent(
                agent_config,
                credentials,
                status,
                subtree=cell.registry.subtree_snapshot,
                kube_proxy=local,
                forward=forward,
                handler=DistributionHandler(client) if client is not None else None,
            )
        distributor = Distributor(cell, client) if client is not None else None
        serving = state_dir / SERVING_FILE
        serving.unlink(missing_ok=True)
        await cell.start()
        if distributor is not None:
            await distributor.start()
        try:
            enrolment.start()
            async with fleet_proxy.serving_proxy(proxy_options, cell, certificate) as proxy:
                served = {"grpc": cell.endpoint, "enrol": enrolment.url}
                if proxy is not None:
                    served["proxy"] = proxy.url
                serving.write_text(json.dumps(served))
                output.err.print(
                    f"cell {name} serving on {cell.endpoint}, enrolment on {enrolment.url}"
                    + (f", API proxy on {proxy.url}" if proxy is not None else ""),
                    markup=False,
                )
                if upstream is not None:
                    await _hold_agent(upstream, parent_credentials, stop)
                await stop.wait()
        finally:
            serving.unlink(missing_ok=True)
            if distributor is not None:
                await distributor.stop()
            await asyncio.to_thread(enrolment.stop)
            await cell.stop(1.0)
        output.err.print(f"cell {name} stopped", markup=False)

    _run(main)


def _load_credentials(directory: Path) -> AgentCredentials:
    try:
        return AgentCredentials.load(directory)
    except pki.CertificateError as exc:
        raise LatticeError(str(exc)) from None


def run_agent(
    cluster: Annotated[str, typer.Option("--cluster", envvar="LATTICE_CLUSTER_NAME")],
    endpoint: Annotated[
        str, typer.Option("--endpoint", envvar="LATTICE_PARENT_ENDPOINT", help="Cell host:port.")
    ],
    credentials_dir: Annotated[
        Path, typer.Option("--credentials-dir", envvar="LATTICE_AGENT_CREDENTIALS_DIR")
    ],
    ca: Annotated[
        Path | None,
        typer.Option("--ca", envvar="LATTICE_PARENT_CA", help="Parent CA (to enrol)."),
    ] = None,
    enrol_url: Annotated[
        str | None, typer.Option("--enrol-url", envvar="LATTICE_ENROL_URL")
    ] = None,
    token_file: Annotated[
        Path | None,
        typer.Option(
            "--token-file",
            envvar="LATTICE_BOOTSTRAP_TOKEN_FILE",
            help="Bootstrap token file (or env LATTICE_BOOTSTRAP_TOKEN).",
        ),
    ] = None,
    heartbeat_interval: Annotated[
        float, typer.Option("--heartbeat-interval", envvar="LATTICE_HEARTBEAT_INTERVAL")
    ] = 10.0,
    backoff_max: Annotated[
        float, typer.Option("--backoff-max", envvar="LATTICE_BACKOFF_MAX")
    ] = 30.0,
    provider: Annotated[str, typer.Option("--provider", envvar="LATTICE_PROVIDER")] = "",
    kubernetes_version: Annotated[
        str, typer.Option("--kubernetes-version", envvar="LATTICE_KUBERNETES_VERSION")
    ] = "",
    tls_server_name: Annotated[
        str | None, typer.Option("--tls-server-name", envvar="LATTICE_TLS_SERVER_NAME")
    ] = None,
    kubeconfig: Kubeconfig = None,
    namespace: Annotated[
        str, typer.Option("--namespace", envvar="LATTICE_NAMESPACE", help="Agent's namespace.")
    ] = NAMESPACE,
    credentials_secret: Annotated[
        str,
        typer.Option(
            "--credentials-secret",
            envvar="LATTICE_CREDENTIALS_SECRET",
            help="Secret that keeps the credentials across pods ('' to not keep them).",
        ),
    ] = CREDENTIALS_SECRET,
    bootstrap_secret: Annotated[
        str,
        typer.Option(
            "--bootstrap-secret",
            envvar="LATTICE_BOOTSTRAP_SECRET",
            help="Secret whose burnt 'token' key is removed once the credentials are kept "
            "('' to leave it).",
        ),
    ] = BOOTSTRAP_SECRET,
    label: fleet_proxy.LabelsOption = None,
) -> None:
    """Enrol if needed, then hold the session with the parent cell until signalled.

    With a Kubernetes API it also relays the API proxy's requests, as each caller.
    """
    try:
        labels = fleet_proxy.parse_labels(label)
    except LatticeError as exc:
        output.fail(exc, code=2)
    config = _agent_config(
        cluster,
        endpoint,
        heartbeat_interval,
        backoff_max=backoff_max,
        backoff_initial=min(0.5, backoff_max),
        provider=provider,
        kubernetes_version=kubernetes_version,
        tls_server_name=tls_server_name,
        labels=labels,
    )

    async def main(stop: asyncio.Event) -> None:
        unwatched = f" and the credentials are kept in {credentials_dir} only"
        async with _watched_cluster(kubeconfig, namespace, heartbeat_interval, unwatched) as (
            client,
            status,
        ):
            store = (
                SecretCredentialStore(client, namespace, credentials_secret)
                if client is not None and credentials_secret
                else None
            )
            forget = (
                _TokenForgetter(BootstrapSecret(client, namespace, bootstrap_secret))
                if client is not None and bootstrap_secret
                else None
            )
            credentials, stored_serial = await _agent_credentials(
                cluster, credentials_dir, store, enrol_url, ca, token_file
            )
            local, _ = fleet_proxy.agent_backends(client)
            handler = DistributionHandler(client) if client is not None else None
            agent = Agent(config, credentials, status, kube_proxy=local, handler=handler)
            await _hold_agent(agent, credentials_dir, stop, store, stored_serial, forget)
        output.err.print(f"agent {cluster} stopped", markup=False)

    _run(main)


async def _agent_credentials(
    cluster: str,
    directory: Path,
    store: SecretCredentialStore | None,
    enrol_url: str | None,
    ca: Path | None,
    token_file: Path | None,
) -> tuple[AgentCredentials, int | None]:
    """Credentials from the directory, else the Secret, else enrolment; and the serial
    already in the Secret (``None``: not saved there yet)."""
    if (directory / "tls.crt").exists():
        return _load_credentials(directory), None
    if store is not None:
        try:
            stored = await store.load()
        except pki.CertificateError as exc:
            log.warning("ignoring the saved credentials: %s", exc)
            stored = None
        if stored is not None:
            stored.save(directory)
            output.err.print(f"loaded the credentials of {cluster} from {store!r}", markup=False)
            return stored, stored.serial
    token = os.environ.get("LATTICE_BOOTSTRAP_TOKEN", "")
    if token_file is not None:
        token = token_file.read_text(encoding="utf-8").strip()
    if not (token and enrol_url and ca):
        raise LatticeError(
            f"no credentials in {directory}"
            + (f" nor in {store!r}" if store is not None else "")
            + ": to enrol, give --enrol-url, --ca "
            "and a bootstrap token (--token-file or LATTICE_BOOTSTRAP_TOKEN)"
        )
    try:
        bundle = ca.read_bytes()
    except OSError as exc:
        raise LatticeError(f"cannot read {ca}: {exc.strerror}") from None
    credentials = await asyncio.to_thread(enrol, enrol_url, token, cluster, bundle)
    credentials.save(directory)
    output.err.print(f"enrolled cluster {cluster}", markup=False)
    return credentials, None


def token(
    cluster: Annotated[str, typer.Argument(help="The child cluster that will enrol.")],
    state_dir: StateDir,
    ttl: Annotated[int, typer.Option("--ttl", help="Validity in minutes.")] = 60,
) -> None:
    """Issue a one-time bootstrap token for CLUSTER (printed once; only its hash is kept)."""
    try:
        state = CellState.open(state_dir, cluster, create=False)
        issued = state.tokens.issue(cluster, timedelta(minutes=ttl))
    except (LatticeError, ValueError) as exc:
        output.fail(exc if isinstance(exc, LatticeError) else LatticeError(str(exc)))
    # The one intentional print of a secret: stdout only, nothing else on that stream.
    output.out.print(issued.token, markup=False, highlight=False)
    output.err.print(
        f"token {issued.token_id} for cluster {cluster}, "
        f"expires {issued.expires_at:%Y-%m-%dT%H:%M:%SZ}",
        markup=False,
    )


def operator_cert(
    state_dir: StateDir,
    out_dir: Annotated[Path, typer.Option("--out-dir", help="Where to write NAME.crt/.key.")],
    name: Annotated[str, typer.Argument(help="Operator name.")] = "lattice-cli",
    days: Annotated[int, typer.Option("--days", help="Validity in days.")] = 30,
) -> None:
    """Issue an operator certificate that may read the fleet view (get commands)."""
    try:
        state = CellState.open(state_dir, name, create=False)
        identity = pki.OperatorIdentity(name, pki.DEFAULT_TRUST_DOMAIN)
        issued = state.ca.issue_operator_certificate(identity, lifetime=timedelta(days=days))
    except LatticeError as exc:
        output.fail(exc)
    out_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
    write_private(out_dir / f"{name}.key", issued.key_pem())
    (out_dir / f"{name}.crt").write_bytes(issued.certificate_pem())
    (out_dir / "ca.crt").write_bytes(state.ca.certificate_pem())
    output.err.print(f"wrote {out_dir / name}.crt, .key and ca.crt", markup=False)


def register(cell: typer.Typer, agent: typer.Typer) -> None:
    """Add the process commands to the ``cell`` and ``agent`` groups."""
    cell.command("serve")(serve)
    cell.command("token")(token)
    cell.command("operator-cert")(operator_cert)
    agent.command("run")(run_agent)
