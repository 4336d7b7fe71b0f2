"""A cell's state directory: its CA and its bootstrap-token store, until it lives in Kubernetes.

``lattice cell serve``, ``lattice cell token`` and ``lattice cell operator-cert`` share one
``--state-dir`` (mode 0700)::

    ca.crt        the cell CA certificate (hand it to children and operators)
    ca.key        the CA key, 0600
    tokens.json   hashes of issued bootstrap tokens, 0600 (see ``cell.tokenstore``)

The server certificate is not kept: ``cell serve`` issues a fresh one for its host names at
every start.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from lattice_pulumi import pki
from lattice_pulumi.cell.errors import CellError
from lattice_pulumi.cell.tokenstore import TokenFile

__all__ = ["CellState", "write_private"]


def write_private(path: Path, data: bytes) -> None:
    """Write ``data`` to ``path`` readable by the owner only (0600 from the first byte)."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as stream:
        stream.write(data)
    os.chmod(path, 0o600)


@dataclass(frozen=True)
class CellState:
    """The CA and token store found in (or created in) one directory."""

    directory: Path
    ca: pki.CertificateAuthority
    tokens: TokenFile

    @property
    def ca_file(self) -> Path:
        return self.directory / "ca.crt"

    @classmethod
    def open(cls, directory: Path, name: str, *, create: bool = True) -> CellState:
        """Load the state in ``directory``; with ``create``, make a CA named ``name`` first."""
        cert, key = directory / "ca.crt", directory / "ca.key"
        if not cert.exists():
            if not create:
                raise CellError(
                    f"no cell state in {directory}: run 'lattice cell serve --state-dir "
                    f"{directory}' once to create it"
                )
            directory.mkdir(mode=0o700, parents=True, exist_ok=True)
            ca = pki.CertificateAuthority.create(name)
            write_private(key, ca.key_pem())
            cert.write_bytes(ca.certificate_pem())
        try:
            ca = pki.CertificateAuthority.from_pem(cert.read_bytes(), key.read_bytes())
        except OSError as exc:
            raise CellError(f"cannot read the cell CA in {directory}: {exc.strerror}") from None
        return cls(directory, ca, TokenFile(directory / "tokens.json"))
