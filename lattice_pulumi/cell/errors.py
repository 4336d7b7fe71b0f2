"""Errors of the cell: a child that is not connected, did not answer, or went away."""

from __future__ import annotations

from lattice_pulumi.errors import LatticeError

__all__ = ["CellError"]


class CellError(LatticeError):
    """The cell could not do what was asked (child not connected, no reply in time, ...)."""
