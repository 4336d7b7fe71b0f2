"""What a reconcile can end with besides success; the exception class decides the retry.

``NotYet`` (a dependency is missing, the API server is busy, a kind is not served yet) is
retried after ``delay`` seconds; any other ``LatticeError`` from the spec or the compiler
(``SpecErrors``, ``CompileError``, ``PolicyDenied``) is permanent until something changes.
Handlers map them to ``kopf.TemporaryError`` and ``kopf.PermanentError``.
"""

from __future__ import annotations

from lattice_pulumi.errors import LatticeError

__all__ = ["NotYet"]


class NotYet(LatticeError):
    """The service cannot be converged yet; try again after ``delay`` seconds."""

    def __init__(self, message: str, *, reason: str, delay: float = 10.0) -> None:
        self.reason = reason
        self.delay = delay
        super().__init__(message)
