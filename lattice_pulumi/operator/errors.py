"""What a reconcile can end with besides success; the exception class decides the retry.

``NotYet`` (a dependency is missing, the API server is busy, a kind is not served yet) is
retried after ``delay`` seconds; any other ``LatticeError`` from the spec or the compiler
(``SpecErrors``, ``CompileError``, ``PolicyDenied``) is permanent until something changes.
``OwnershipConflict`` is a ``NotYet`` whose status is Failed: an object of a name the
service generates exists and is not ours; it is left alone and retried later (its owner
may delete or rename it). Handlers map them to ``kopf.TemporaryError`` and
``kopf.PermanentError``.
"""

from __future__ import annotations

from lattice_pulumi.errors import LatticeError

__all__ = ["NotYet", "OwnershipConflict"]


class NotYet(LatticeError):
    """The service cannot be converged yet; try again after ``delay`` seconds."""

    def __init__(self, message: str, *, reason: str, delay: float = 10.0) -> None:
        self.reason = reason
        self.delay = delay
        super().__init__(message)


class OwnershipConflict(NotYet):
    """Objects of generated names exist that the operator did not create (left alone)."""

    def __init__(self, conflicts: list[str], *, delay: float = 15.0) -> None:
        self.conflicts = conflicts
        message = "; ".join(conflicts) + ": delete or rename it, or rename the service"
        super().__init__(message, reason="OwnershipConflict", delay=delay)
