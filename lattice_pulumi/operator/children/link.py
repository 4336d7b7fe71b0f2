"""What the parent's operator needs from its cell, as an interface the cell side fulfils.

The operator and the cell do not import each other (``.importlinter``), so the operator
states what it needs here and ``lattice_pulumi.cell.link.FleetLink`` provides it
structurally; ``lattice operator run --cell-state-dir`` wires one in. A test may pass any
object with the same members.

- ``bootstrap_endpoint``: base URL of the cell's bootstrap/enrolment server as a new node
  reaches it (``https://host:port``); the compiler appends ``/v1/bootstrap/<cluster>``;
- ``parent_ca_pem``: the CA bundle that node pins (public);
- ``issue_token(cluster)``: a fresh one-time bootstrap token (its secret exists only in
  the returned object and in the Secret the operator writes);
- ``child_report(cluster)``: whether the child's agent holds a session with the cell and
  the health conditions it last reported (``None`` when the cell does not know it).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

from lattice_pulumi import pki

__all__ = ["CellLink", "ChildReport", "ReportedCondition"]


class ReportedCondition(Protocol):
    """One condition of a child's last heartbeat (``pb.Condition`` has these fields)."""

    @property
    def type(self) -> str: ...

    @property
    def status(self) -> str: ...

    @property
    def reason(self) -> str: ...

    @property
    def message(self) -> str: ...


class ChildReport(Protocol):
    """What the cell knows of one child."""

    @property
    def connected(self) -> bool: ...

    @property
    def conditions(self) -> Sequence[ReportedCondition]: ...


class CellLink(Protocol):
    """The cell as the parent's operator uses it."""

    @property
    def bootstrap_endpoint(self) -> str: ...

    @property
    def parent_ca_pem(self) -> str: ...

    def issue_token(self, cluster: str) -> pki.IssuedToken: ...

    async def child_report(self, cluster: str) -> ChildReport | None: ...
