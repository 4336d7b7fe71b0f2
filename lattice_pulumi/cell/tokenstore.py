"""Bootstrap-token hashes in a JSON file shared by ``lattice cell token`` and a running cell.

The cell has no Kubernetes API to keep state in yet, so ``lattice cell serve --state-dir``
keeps issued tokens in ``<state-dir>/tokens.json`` (mode 0600, replaced atomically). Only the
SHA-256 of each secret is written, with its cluster, expiry and use time; the secret exists
once, in the output of ``lattice cell token``. Every operation takes an exclusive ``flock``
on ``tokens.json.lock`` and re-reads the file, so a token issued by the CLI while the cell
runs is redeemable at once and a token redeemed by one process is burnt for all. Used as
the ``tokens`` store of :class:`lattice_pulumi.cell.enrolment.EnrolmentServer`.
"""

from __future__ import annotations

import fcntl
import json
import os
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path

from lattice_pulumi import pki
from lattice_pulumi.cell.errors import CellError

__all__ = ["TokenFile"]


def _utcnow() -> datetime:
    return datetime.now(UTC)


class TokenFile:
    """A :class:`pki.BootstrapTokens` store that lives in one file."""

    def __init__(self, path: Path, *, clock: Callable[[], datetime] = _utcnow) -> None:
        self.path = path
        self._clock = clock

    def issue(self, cluster: str, ttl: timedelta = timedelta(hours=1)) -> pki.IssuedToken:
        """A new one-time token for ``cluster``; expired records are dropped meanwhile."""
        with self._locked():
            tokens = self._load()
            tokens.prune()
            issued = tokens.issue(cluster, ttl)
            self._save(tokens)
        return issued

    @contextmanager
    def redeeming(self, token: str) -> Iterator[str]:
        """As :meth:`pki.BootstrapTokens.redeeming`; the burnt token is written back."""
        with self._locked():
            tokens = self._load()
            with tokens.redeeming(token) as cluster:
                yield cluster
            self._save(tokens)

    @contextmanager
    def _locked(self) -> Iterator[None]:
        self.path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        fd = os.open(self.path.with_name(self.path.name + ".lock"), os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)
            yield
        finally:
            os.close(fd)  # releases the lock

    def _load(self) -> pki.BootstrapTokens:
        try:
            data = json.loads(self.path.read_text(encoding="utf-8"))
            records = {k: pki.TokenRecord.from_json(v) for k, v in data["tokens"].items()}
        except FileNotFoundError:
            records = {}
        except (OSError, ValueError, KeyError, TypeError, AttributeError) as exc:
            raise CellError(f"token store {self.path} is unreadable: {exc}") from None
        return pki.BootstrapTokens(clock=self._clock, records=records)

    def _save(self, tokens: pki.BootstrapTokens) -> None:
        data = {"tokens": {k: r.to_json() for k, r in sorted(tokens.records().items())}}
        partial = self.path.with_name(self.path.name + ".tmp")
        fd = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as stream:
            json.dump(data, stream, indent=2, sort_keys=True)
        os.replace(partial, self.path)
