"""The agent's credentials kept in a Kubernetes Secret, so a replaced pod keeps its identity.

The bootstrap token is single-use: once enrolled, a pod that loses its credentials directory
(an emptyDir) could never enrol again. :class:`SecretCredentialStore` saves key, certificate
and CA bundle into the Secret ``lattice-agent-credentials`` (type ``kubernetes.io/tls``,
keys ``tls.key``, ``tls.crt``, ``ca.crt``) with server-side apply after enrolment and after
each renewal, and loads them back when the agent starts with an empty directory.

The key is only ever in the Secret's data: never in a log line, an exception or a repr.

:class:`BootstrapSecret` is the other Secret the agent touches: ``lattice-bootstrap``, where
the node's post-boot script left the one-time token and the parent CA. Once the token is
burnt and working credentials are saved, :meth:`BootstrapSecret.forget_token` removes the
``token`` key (a JSON patch; ``ca.crt`` and the Secret itself stay, so the post-boot script
of a later control-plane node still sees the cluster as bootstrapped). The token's value is
never read into a log line either.
"""

from __future__ import annotations

import base64
import logging

from lightkube import AsyncClient
from lightkube.models.meta_v1 import ObjectMeta
from lightkube.resources.core_v1 import Secret
from lightkube.types import PatchType

from lattice_pulumi import pki
from lattice_pulumi.agent.credentials import AgentCredentials
from lattice_pulumi.kube import NotFoundError, api_errors

__all__ = [
    "BOOTSTRAP_SECRET",
    "BOOTSTRAP_TOKEN_KEY",
    "CREDENTIALS_SECRET",
    "FIELD_MANAGER",
    "BootstrapSecret",
    "SecretCredentialStore",
]

log = logging.getLogger(__name__)

CREDENTIALS_SECRET = "lattice-agent-credentials"
FIELD_MANAGER = "lattice-agent"
# Same values as compile.agent.BOOTSTRAP_SECRET and the post-boot script's key (a unit
# test keeps them in step; the agent may not import compile).
BOOTSTRAP_SECRET = "lattice-bootstrap"
BOOTSTRAP_TOKEN_KEY = "token"
_KEYS = ("tls.key", "tls.crt", "ca.crt")


class SecretCredentialStore:
    """Load and save :class:`AgentCredentials` in one Secret of one namespace."""

    def __init__(
        self,
        client: AsyncClient,
        namespace: str,
        name: str = CREDENTIALS_SECRET,
        *,
        labels: dict[str, str] | None = None,
    ) -> None:
        self.client = client
        self.namespace = namespace
        self.name = name
        self.labels = dict(labels or {})

    def __repr__(self) -> str:
        return f"SecretCredentialStore({self.namespace}/{self.name})"

    async def load(self) -> AgentCredentials | None:
        """The saved credentials; ``None`` when the Secret does not exist.

        ``KubeError`` when the API fails, ``CertificateError`` when the Secret is incomplete
        or its contents do not form credentials (the message names no secret material).
        """
        try:
            with api_errors(f"read Secret {self.namespace}/{self.name}"):
                secret = await self.client.get(Secret, self.name, namespace=self.namespace)
        except NotFoundError:
            return None
        data = secret.data or {}
        missing = [key for key in _KEYS if not data.get(key)]
        if missing:
            raise pki.CertificateError(
                f"Secret {self.namespace}/{self.name} lacks {', '.join(missing)}"
            )
        try:
            key, cert, bundle = (base64.b64decode(data[k], validate=True) for k in _KEYS)
        except ValueError:
            raise pki.CertificateError(
                f"Secret {self.namespace}/{self.name} holds data that is not base64"
            ) from None
        try:  # pki's messages never quote key material
            return AgentCredentials.issued(pki.load_private_key(key), cert, bundle)
        except pki.CertificateError as exc:
            raise pki.CertificateError(
                f"Secret {self.namespace}/{self.name} holds unusable credentials: {exc}"
            ) from None

    async def save(self, credentials: AgentCredentials) -> None:
        """Create or replace the Secret with ``credentials`` (server-side apply, forced)."""
        values = {
            "tls.key": pki.private_key_pem(credentials.key),
            "tls.crt": pki.certificate_pem(credentials.certificate),
            "ca.crt": credentials.ca_bundle_pem,
        }
        secret = Secret(
            apiVersion="v1",
            kind="Secret",
            metadata=ObjectMeta(name=self.name, namespace=self.namespace, labels=self.labels),
            type="kubernetes.io/tls",
            data={k: base64.b64encode(v).decode("ascii") for k, v in values.items()},
        )
        with api_errors(f"save Secret {self.namespace}/{self.name}"):
            await self.client.apply(secret, field_manager=FIELD_MANAGER, force=True)
        log.info(
            "saved agent credentials (serial %x) to Secret %s/%s",
            credentials.serial,
            self.namespace,
            self.name,
        )


class BootstrapSecret:
    """The Secret ``lattice-bootstrap`` of one namespace: one-time token and parent CA."""

    def __init__(self, client: AsyncClient, namespace: str, name: str = BOOTSTRAP_SECRET) -> None:
        self.client = client
        self.namespace = namespace
        self.name = name

    def __repr__(self) -> str:
        return f"BootstrapSecret({self.namespace}/{self.name})"

    async def forget_token(self) -> bool:
        """Remove the ``token`` key, keep everything else; whether it was there to remove.

        ``False`` when the Secret or its token is already gone (nothing to do). A JSON
        patch that tests the read ``resourceVersion`` first, so a concurrent change fails
        the patch (``KubeError``, HTTP 422 or 409) instead of removing a key blindly.
        """
        where = f"{self.namespace}/{self.name}"
        try:
            with api_errors(f"read Secret {where}"):
                secret = await self.client.get(Secret, self.name, namespace=self.namespace)
        except NotFoundError:
            return False
        if BOOTSTRAP_TOKEN_KEY not in (secret.data or {}):
            return False
        version = secret.metadata.resourceVersion if secret.metadata else None
        patch: list[dict[str, object]] = []
        if version:
            patch.append({"op": "test", "path": "/metadata/resourceVersion", "value": version})
        patch.append({"op": "remove", "path": f"/data/{BOOTSTRAP_TOKEN_KEY}"})
        with api_errors(f"remove the token from Secret {where}"):
            await self.client.patch(
                Secret, self.name, patch, namespace=self.namespace, patch_type=PatchType.JSON
            )
        log.info("removed the burnt bootstrap token from Secret %s", where)
        return True
