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


class AuditLog:
    """Appends audit entries to the log and, optionally, to a JSON-lines file."""

    def __init__(self, path: Path | None = None) -> None:
        self.path = path
        self._lock = threading.Lock()
        self._file = path.open("a", encoding="utf-8") if path is not None else None

    def record(self, decision: str, fields: Mapping[str, Any]) -> None:
        """Record one decision (``allow``, ``deny``, ``unauthenticated``, ``error``)."""
        entry = {
            "time": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
            "decision": decision,
            **fields,
        }
        line = json.dumps(entry, sort_keys=True, separators=(",", ":"))
        log.info("%s", line)
        if self._file is not None:
            with self._lock:
                self._file.write(line + "\n")
                self._file.flush()

    def close(self) -> None:
        if self._file is not None:
            self._file.close()
            self._file = None
