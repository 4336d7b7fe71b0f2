"""The cell's enrolment endpoint: a child trades its one-time bootstrap token and a CSR for
its first client certificate, over HTTPS.

``POST /v1/enrol`` with ``Authorization: Bearer <token>`` and a PEM CSR as the body answers
200 with JSON ``{"cluster", "certificate", "caBundle"}``. Errors answer JSON ``{"error"}``:
401 unknown/expired token, 410 token already used, 403 CSR for another cluster, 400 bad CSR,
413 body too large. The cell sets the certificate subject from the token's cluster and burns
the token only when signing succeeds.

``GET /v1/bootstrap/<cluster>`` with the same bearer token answers 200 with the cluster's
bootstrap bundle (``Content-Type: application/yaml``, see :mod:`lattice_pulumi.cell.bundles`)
when the server was given ``bundles``; 401 unknown/expired token, 403 token of another
cluster, 410 token already used, 404 bundles not served. It does not burn the token.

Small on purpose: stdlib ``http.server`` + ``ssl`` in a background thread, started and
stopped by the parent's operator (or a test). Tokens are logged by id only.
"""

from __future__ import annotations

import json
import logging
import ssl
import tempfile
import threading
from contextlib import AbstractContextManager
from datetime import timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, Protocol

from lattice_pulumi import pki
from lattice_pulumi.cell.bundles import BUNDLE_PATH, AgentBundles, token_cluster
from lattice_pulumi.errors import LatticeError

__all__ = ["ENROL_PATH", "EnrolmentServer", "TokenStore"]

log = logging.getLogger(__name__)

ENROL_PATH = "/v1/enrol"
MAX_BODY_BYTES = 16 * 1024


class TokenStore(Protocol):
    """Where tokens are redeemed: ``pki.BootstrapTokens`` or ``cell.tokenstore.TokenFile``."""

    def redeeming(self, token: str) -> AbstractContextManager[str]: ...


class _Handler(BaseHTTPRequestHandler):
    server: _HTTPServer
    protocol_version = "HTTP/1.1"
    timeout = 10  # seconds per socket operation, handshake included

    def do_POST(self) -> None:
        if self.path != ENROL_PATH:
            self._answer(404, {"error": f"no such endpoint; use POST {ENROL_PATH}"})
            return
        length = int(self.headers.get("Content-Length") or 0)
        if length > MAX_BODY_BYTES:
            self.close_connection = True
            self._answer(413, {"error": f"request body above {MAX_BODY_BYTES} bytes"})
            return
        body = self.rfile.read(length)
        token = self._bearer()
        try:
            status, payload = 200, self.server.enrol(token, body)
        except pki.PkiError as exc:
            status, payload = exc.http_status, {"error": str(exc)}
            log.warning(
                "enrolment refused (%d) for token %s: %s", status, pki.token_id_of(token), exc
            )
        self._answer(status, payload)

    def do_GET(self) -> None:
        cluster = self.path.removeprefix(BUNDLE_PATH)
        if not self.path.startswith(BUNDLE_PATH) or not cluster or "/" in cluster:
            self._answer(404, {"error": f"no such endpoint; use GET {BUNDLE_PATH}<cluster>"})
            return
        token = self._bearer()
        try:
            bundle = self.server.bundle(token, cluster)
        except LookupError as exc:
            self._answer(404, {"error": str(exc)})
            return
        except pki.PkiError as exc:
            log.warning(
                "bundle for %s refused (%d) for token %s: %s",
                cluster[:63],
                exc.http_status,
                pki.token_id_of(token),
                exc,
            )
            self._answer(exc.http_status, {"error": str(exc)})
            return
        except LatticeError as exc:  # the cell's own settings: say so in its log, not here
            log.error("bundle for %s cannot be built: %s", cluster, exc)
            self._answer(500, {"error": "the cell cannot build this bundle; see its log"})
            return
        log.info("served bootstrap bundle of %s (token %s)", cluster, pki.token_id_of(token))
        self._send(200, "application/yaml", bundle.encode())

    def _bearer(self) -> str:
        auth = self.headers.get("Authorization", "")
        return auth.removeprefix("Bearer ").strip() if auth.startswith("Bearer ") else ""

    def _answer(self, status: int, payload: dict[str, str]) -> None:
        self._send(status, "application/json", json.dumps(payload).encode())

    def _send(self, status: int, content_type: str, data: bytes) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, format: str, *args: Any) -> None:
        # The default writes the request line to stderr; requests carry no secrets in the
        # line, but keep one logging setup.
        log.debug("enrolment %s", format % args)


class _HTTPServer(ThreadingHTTPServer):
    daemon_threads = True
    enrol: Any  # set by EnrolmentServer
    bundle: Any

    def handle_error(self, request: Any, client_address: Any) -> None:
        # Failed TLS handshakes and dropped clients: one log line, not a stderr traceback.
        log.info("enrolment connection from %s failed", client_address[0], exc_info=True)


class EnrolmentServer:
    """HTTPS enrolment endpoint on ``host:port`` (port 0 picks a free one)."""

    def __init__(
        self,
        authority: pki.CellAuthority,
        tokens: TokenStore,
        server_certificate: pki.IssuedCertificate,
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        trust_domain: str = pki.DEFAULT_TRUST_DOMAIN,
        client_certificate_lifetime: timedelta = timedelta(hours=24),
        bundles: AgentBundles | None = None,
    ) -> None:
        """``bundles``: serve ``GET /v1/bootstrap/<cluster>`` (404 without)."""
        self._authority = authority
        self._tokens = tokens
        self._server_certificate = server_certificate
        self._address = (host, port)
        self._trust_domain = trust_domain
        self._lifetime = client_certificate_lifetime
        self._bundles = bundles
        self._httpd: _HTTPServer | None = None
        self._thread: threading.Thread | None = None
        self.port = 0

    @property
    def url(self) -> str:
        return f"https://{self._address[0]}:{self.port}{ENROL_PATH}"

    def enrol(self, token: str, csr_pem: bytes) -> dict[str, str]:
        """Redeem ``token`` for a certificate signed over ``csr_pem`` (no HTTP involved)."""
        with self._tokens.redeeming(token) as cluster:
            identity = pki.ClusterIdentity(cluster, self._trust_domain)
            cert = self._authority.signer.sign_client_csr(
                csr_pem, identity, lifetime=self._lifetime
            )
        bundle = self._authority.bundle()  # before recording: see AgentService.Renew
        self._authority.record_certificate(cluster, cert)
        log.info("enrolled cluster %s (token %s)", cluster, pki.token_id_of(token))
        return {
            "cluster": cluster,
            "certificate": pki.certificate_pem(cert).decode(),
            "caBundle": bundle.pem().decode(),
        }

    def bundle(self, token: str, cluster: str) -> str:
        """The bootstrap bundle of ``cluster`` for ``token``, which is checked, not burnt.

        ``LookupError`` when this server serves no bundles; ``pki.PkiError`` (with its HTTP
        status) for a refused token; ``LatticeError`` when the cell's settings cannot make one.
        """
        if self._bundles is None:
            raise LookupError("this cell serves no bootstrap bundles")
        owner = token_cluster(self._tokens, token)
        if owner != cluster:
            raise pki.IdentityMismatchError(
                f"bootstrap token {pki.token_id_of(token)} was issued for another cluster"
            )
        return self._bundles.render(cluster, self.url)

    def _tls_context(self) -> ssl.SSLContext:
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.minimum_version = ssl.TLSVersion.TLSv1_2
        # ssl only loads keys from files: write them to a private directory, load, delete.
        with tempfile.TemporaryDirectory(prefix="lattice-enrol-") as tmp:
            cert, key = Path(tmp, "tls.crt"), Path(tmp, "tls.key")
            cert.write_bytes(self._server_certificate.certificate_pem())
            key.touch(mode=0o600)
            key.write_bytes(self._server_certificate.key_pem())
            context.load_cert_chain(cert, key)
        return context

    def start(self) -> int:
        if self._httpd is not None:
            raise RuntimeError("enrolment server is already running")
        httpd = _HTTPServer(self._address, _Handler)
        httpd.enrol = self.enrol
        httpd.bundle = self.bundle
        # Handshake lazily in the per-request thread, so a slow client cannot stall accept().
        httpd.socket = self._tls_context().wrap_socket(
            httpd.socket, server_side=True, do_handshake_on_connect=False
        )
        self._httpd, self.port = httpd, httpd.server_address[1]
        self._thread = threading.Thread(
            target=httpd.serve_forever,
            kwargs={"poll_interval": 0.05},
            daemon=True,
            name="lattice-enrolment",
        )
        self._thread.start()
        return self.port

    def stop(self) -> None:
        httpd, thread = self._httpd, self._thread
        self._httpd = self._thread = None
        if httpd is None:
            return
        httpd.shutdown()
        httpd.server_close()
        if thread is not None:
            thread.join(timeout=5)

    def __enter__(self) -> EnrolmentServer:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()
