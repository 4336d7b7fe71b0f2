"""The agent's side of enrolment: trade the bootstrap token and a CSR for credentials.

Called once when a child cluster first starts (the token and the parent's CA bundle arrive
with the cluster's bootstrap data). Blocking HTTPS via ``urllib``; call it through
``asyncio.to_thread`` from async code. The token never appears in errors or logs.
"""

from __future__ import annotations

import json
import ssl
import urllib.error
import urllib.request

from lattice_pulumi import pki
from lattice_pulumi.agent.credentials import AgentCredentials
from lattice_pulumi.errors import LatticeError

__all__ = ["EnrolmentError", "enrol"]


class EnrolmentError(LatticeError):
    """The cell refused enrolment, or could not be reached; ``status`` is the HTTP status."""

    def __init__(self, message: str, *, status: int = 0) -> None:
        self.status = status
        super().__init__(f"enrolment failed ({status}): {message}" if status else message)


def enrol(
    url: str,
    token: str,
    cluster: str,
    ca_bundle_pem: bytes,
    *,
    curve: pki.keys.Curve = "P-256",
    timeout: float = 30.0,
) -> AgentCredentials:
    """Generate a key, send a CSR for ``cluster`` with ``token`` to ``url``, return credentials.

    The server certificate must chain to ``ca_bundle_pem`` (the parent's CA, pinned).
    """
    key = pki.generate_private_key(curve)
    csr = pki.build_csr(key, pki.ClusterIdentity(cluster))
    context = ssl.create_default_context(cadata=ca_bundle_pem.decode())
    context.minimum_version = ssl.TLSVersion.TLSv1_2
    request = urllib.request.Request(
        url,
        data=csr,
        method="POST",
        headers={"Authorization": f"Bearer {token}", "Content-Type": "application/pkcs10"},
    )
    try:
        with urllib.request.urlopen(request, context=context, timeout=timeout) as response:
            body = json.loads(response.read())
    except urllib.error.HTTPError as exc:
        with exc:
            raise EnrolmentError(_error_text(exc.read()), status=exc.code) from None
    except (urllib.error.URLError, OSError) as exc:
        raise EnrolmentError(f"cannot reach the enrolment endpoint {url}: {exc}") from exc
    except ValueError as exc:
        raise EnrolmentError("the enrolment endpoint answered with invalid JSON") from exc
    if body.get("cluster") != cluster:
        raise EnrolmentError(f"the cell issued a certificate for {body.get('cluster')!r}")
    try:
        return AgentCredentials.issued(key, body["certificate"].encode(), body["caBundle"].encode())
    except (KeyError, AttributeError, pki.CertificateError) as exc:
        raise EnrolmentError(f"the enrolment answer is unusable: {exc}") from exc


def _error_text(data: bytes) -> str:
    try:
        return str(json.loads(data)["error"])
    except (ValueError, KeyError, TypeError):
        return "no details"
