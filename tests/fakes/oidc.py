"""FakeOIDCIssuer: an identity provider on loopback for the proxy's OIDC tests.

Why a fake: no real OpenID Connect provider (Dex, Keycloak) can be installed or reached on
this machine. This one speaks the two documents a relying party reads, for real, over TLS:
``/.well-known/openid-configuration`` and the JWKS, and signs RS256 ID tokens with keys
made by ``cryptography``. ``rotate()`` replaces the signing key (the old one is no longer
published), as an issuer rotating its keys does. Counts how often the JWKS was read.
"""

from __future__ import annotations

import json
import ssl
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

import jwt
from aiohttp import web
from cryptography.hazmat.primitives.asymmetric import rsa

from lattice_pulumi import pki


class FakeOIDCIssuer:
    def __init__(self, certificate: pki.IssuedCertificate) -> None:
        self._certificate = certificate
        self._runner: web.AppRunner | None = None
        self.port = 0
        self.jwks_reads = 0
        self._key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        self._kid = uuid.uuid4().hex[:8]

    @property
    def issuer(self) -> str:
        return f"https://127.0.0.1:{self.port}"

    def rotate(self) -> None:
        self._key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        self._kid = uuid.uuid4().hex[:8]

    def issue(self, subject: str, groups: list[str], audience: str, lifetime: int = 600,
              **claims: Any) -> str:  # fmt: skip
        now = int(time.time())
        body = {"iss": self.issuer, "sub": subject, "aud": audience, "groups": groups,
                "iat": now, "exp": now + lifetime, **claims}  # fmt: skip
        return jwt.encode(body, self._key, algorithm="RS256", headers={"kid": self._kid})

    async def _discovery(self, request: web.Request) -> web.Response:
        return web.json_response({"issuer": self.issuer, "jwks_uri": f"{self.issuer}/keys"})

    async def _keys(self, request: web.Request) -> web.Response:
        self.jwks_reads += 1
        public = json.loads(jwt.algorithms.RSAAlgorithm.to_jwk(self._key.public_key()))
        public.update(kid=self._kid, use="sig", alg="RS256")
        return web.json_response({"keys": [public]})

    async def start(self) -> None:
        app = web.Application()
        app.router.add_get("/.well-known/openid-configuration", self._discovery)
        app.router.add_get("/keys", self._keys)
        self._runner = web.AppRunner(app)
        await self._runner.setup()
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        with tempfile.TemporaryDirectory() as directory:
            cert, key = Path(directory) / "c", Path(directory) / "k"
            cert.write_bytes(self._certificate.certificate_pem())
            key.write_bytes(self._certificate.key_pem())
            context.load_cert_chain(cert, key)
        site = web.TCPSite(self._runner, "127.0.0.1", 0, ssl_context=context)
        await site.start()
        self.port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
