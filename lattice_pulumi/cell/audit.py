"""The API proxy's audit trail: one JSON line per decision (who, what, which policy).

Every request the proxy sees is recorded once, whether refused before authentication,
denied by Cedar or forwarded: time, caller and groups, source address, cluster, method and
path, the verb and resource as Cedar saw them, the decision, its reason and the determining
policies. Lines go to the logger ``lattice_pulumi.cell.audit`` and, when a path is given, are
appended to that file (flushed per line). Tokens never appear: the caller is the name the
TokenReview gave.
"""

from __future__ import annotations

import json
import logging
import threading
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any

__all__ = ["AuditLog"]

log = logging.getLogger("lattice_pulumi.cell.audit")

# Keys in a fixed order, so lines compare and grep alike.
_encode = json.JSONEncoder(sort_keys=True, separators=(",", ":")).encode


class AuditLog:
    """Appends audit entries to the log and, optionally, to a JSON-lines file."""

    def __init__(self, path: Path | None = None) -> None:
        self.path = path
        self._lock = threading.Lock()
        self._file = path.open("a", encoding="utf-8") if path is not None else None
        self._second = -1
        self._stamp = ""

    def _now(self) -> str:
        """The time of an entry, to the second (formatted once per second)."""
        second = int(time.time())
        if second != self._second:
            self._second = second
            self._stamp = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(second))
        return self._stamp

    def record(self, decision: str, fields: Mapping[str, Any]) -> None:
        """Record one decision (``allow``, ``deny``, ``unauthenticated``, ``error``)."""
        entry = {"time": self._now(), "decision": decision, **fields}
        line = _encode(entry)
        log.info("%s", line)
        if self._file is not None:
            with self._lock:
                self._file.write(line + "\n")
                self._file.flush()

    def close(self) -> None:
        if self._file is not None:
            self._file.close()
            self._file = None
