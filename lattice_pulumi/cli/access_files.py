"""Files of ``lattice login``: the kubeconfig of reachable clusters and the token cache.

Everything lives under the lattice home (``$LATTICE_HOME``, default ``~/.lattice``), mode
0700, files 0600 and written whole (a temporary file renamed into place), so a failed
login never leaves a half-written kubeconfig. ``kubeconfig`` has one cluster and one
context per cluster the caller may reach, all using one user whose credentials come from
the exec plugin ``lattice token`` (``client.authentication.k8s.io/v1``). The token itself
is kept only in ``tokens/<server-hash>.json``, with its expiry: the ``exp`` claim of a JWT,
else the login's ``--ttl``. :func:`exec_credential` is what ``lattice token`` prints.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
import os
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from lattice_pulumi.errors import LatticeError

__all__ = [
    "EXEC_API_VERSION",
    "USER",
    "CachedToken",
    "build_kubeconfig",
    "exec_credential",
    "lattice_home",
    "load_token",
    "save_token",
    "token_expiry",
    "token_file",
    "write_private_atomically",
]

EXEC_API_VERSION = "client.authentication.k8s.io/v1"
USER = "lattice"


def lattice_home() -> Path:
    configured = os.environ.get("LATTICE_HOME")
    return Path(configured) if configured else Path.home() / ".lattice"


def write_private_atomically(path: Path, text: str) -> None:
    """Write ``text`` to ``path`` (mode 0600) through a temporary file and a rename."""
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    temporary = path.with_name(f".{path.name}.tmp")
    fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as stream:
        stream.write(text)
    os.chmod(temporary, 0o600)
    temporary.replace(path)


def token_expiry(token: str, now: datetime, ttl: timedelta) -> datetime:
    """When ``token`` expires: a JWT's ``exp`` claim (not verified: the cell verifies), else
    ``now + ttl``."""
    parts = token.split(".")
    if len(parts) == 3:
        padded = parts[1] + "=" * (-len(parts[1]) % 4)
        try:
            claims = json.loads(base64.urlsafe_b64decode(padded))
        except (ValueError, binascii.Error):
            claims = None
        if isinstance(claims, dict) and isinstance(claims.get("exp"), int | float):
            return datetime.fromtimestamp(claims["exp"], UTC)
    return now + ttl


@dataclass(frozen=True)
class CachedToken:
    server: str
    token: str
    expires: datetime

    def expired(self, now: datetime) -> bool:
        return self.expires <= now


def token_file(home: Path, server: str) -> Path:
    digest = hashlib.sha256(server.encode()).hexdigest()[:16]
    return home / "tokens" / f"{digest}.json"


def save_token(home: Path, cached: CachedToken) -> Path:
    path = token_file(home, cached.server)
    body = {
        "server": cached.server,
        "token": cached.token,
        "expires": cached.expires.strftime("%Y-%m-%dT%H:%M:%SZ"),
    }
    write_private_atomically(path, json.dumps(body, sort_keys=True) + "\n")
    return path


def load_token(home: Path, server: str) -> CachedToken:
    path = token_file(home, server)
    try:
        body = json.loads(path.read_text(encoding="utf-8"))
        expires = datetime.strptime(body["expires"], "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC)
        return CachedToken(str(body["server"]), str(body["token"]), expires)
    except FileNotFoundError:
        raise LatticeError(f"not logged in to {server}: run 'lattice login {server}'") from None
    except (OSError, ValueError, KeyError) as exc:
        raise LatticeError(f"{path}: unreadable token cache ({exc}); log in again") from None


def exec_credential(cached: CachedToken) -> dict[str, Any]:
    """The ``ExecCredential`` a kubeconfig exec plugin prints."""
    return {
        "apiVersion": EXEC_API_VERSION,
        "kind": "ExecCredential",
        "status": {
            "token": cached.token,
            "expirationTimestamp": cached.expires.strftime("%Y-%m-%dT%H:%M:%SZ"),
        },
    }


def _plugin_command(server: str, home: Path) -> dict[str, Any]:
    args = ["token", "--server", server, "--home", str(home)]
    return {
        "apiVersion": EXEC_API_VERSION,
        # The interpreter that ran login, so the plugin works without `lattice` on PATH.
        "command": sys.executable,
        "args": ["-m", "lattice_pulumi.cli", *args],
        "interactiveMode": "Never",
        "provideClusterInfo": False,
    }


def build_kubeconfig(
    server: str,
    ca_pem: bytes,
    clusters: Sequence[str],
    home: Path,
    current: str | None = None,
) -> dict[str, Any]:
    """One cluster and context per name, all behind ``server``'s ``/clusters/<name>``."""
    ca_data = base64.b64encode(ca_pem).decode()
    base = server.rstrip("/")
    return {
        "apiVersion": "v1",
        "kind": "Config",
        "clusters": [
            {
                "name": name,
                "cluster": {
                    "server": f"{base}/clusters/{name}",
                    "certificate-authority-data": ca_data,
                },
            }
            for name in clusters
        ],
        "users": [{"name": USER, "user": {"exec": _plugin_command(base, home)}}],
        "contexts": [
            {"name": name, "context": {"cluster": name, "user": USER}} for name in clusters
        ],
        "current-context": current if current in clusters else (clusters[0] if clusters else ""),
        "preferences": {},
    }
