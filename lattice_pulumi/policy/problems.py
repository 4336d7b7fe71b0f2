"""What can be wrong with a policy source, located as precisely as cedarpy allows.

The authorizer collects one ``PolicyProblem`` per finding while loading and keeps going (a bad
CedarPolicy object is skipped, never the whole set); ``PolicyError`` carries all of them when a
caller (the ``lattice policy validate`` command, a strict compile) wants them raised.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

from lattice_pulumi.errors import LatticeError

__all__ = ["PolicyError", "PolicyProblem"]


@dataclass(frozen=True)
class PolicyProblem:
    """One finding in one policy source.

    ``line``/``column`` are 1-based and relative to the source's policy text (for a YAML
    CedarPolicy, the text of ``spec.policies``). cedarpy reports no positions, so they point at
    the start of the Cedar statement the finding belongs to, or are ``None`` when the finding
    is about the whole source.
    """

    source: str
    message: str
    file: str | None = None
    line: int | None = None
    column: int | None = None

    def location(self) -> str:
        """``file source:line:col`` with the parts that are known."""
        where = f"{self.file} {self.source}" if self.file else self.source
        if self.line is not None:
            where += f":{self.line}"
            if self.column is not None:
                where += f":{self.column}"
        return where

    def __str__(self) -> str:
        return f"{self.location()}: {self.message}"


@dataclass(frozen=True)
class PolicyError(LatticeError):
    """Policy sources that failed to parse or validate, every finding listed."""

    problems: tuple[PolicyProblem, ...] = field(default_factory=tuple)

    def __post_init__(self) -> None:
        super().__init__(str(self))

    @classmethod
    def of(cls, problems: Iterable[PolicyProblem]) -> PolicyError:
        return cls(tuple(problems))

    def __str__(self) -> str:
        count = len(self.problems)
        head = f"{count} policy problem{'s' if count != 1 else ''} found"
        return "\n".join([head, *(str(p) for p in self.problems)])
