"""Kubernetes versions as the self-cluster planner reasons about them.

``parse_version`` reads what Cluster API objects carry (``v1.33.0``, ``v1.33.0+rke2r1``,
or the spec's ``1.33.0``); ``spell_version`` writes a version back the way the cluster
compiler does for each bootstrap flavour (``compile.cluster.hints``: kubeadm ``v1.33.0``,
RKE2 the first release of the version, ``v1.33.0+rke2r1``). ``next_step`` is the one rule
of an upgrade: from what the control plane runs, go to the next minor (its ``.0`` release,
or the target's patch when that minor is the target's), never further. Pure.
"""

from __future__ import annotations

import re
from typing import Literal, NamedTuple

__all__ = ["Flavour", "Version", "next_step", "parse_version", "spell_version"]

Flavour = Literal["kubeadm", "rke2"]
_VERSION = re.compile(r"v?(0|[1-9]\d*)\.(0|[1-9]\d*)\.(0|[1-9]\d*)(?:[+-].*)?")


class Version(NamedTuple):
    """``major.minor.patch``; tuples compare in version order."""

    major: int
    minor: int
    patch: int

    def __str__(self) -> str:
        return f"{self.major}.{self.minor}.{self.patch}"

    @property
    def minor_line(self) -> str:
        """``1.33``."""
        return f"{self.major}.{self.minor}"


def parse_version(text: object) -> Version | None:
    """The version in ``text``; None when it is absent or not a Kubernetes version."""
    if not isinstance(text, str):
        return None
    match = _VERSION.fullmatch(text.strip())
    if match is None:
        return None
    return Version(int(match[1]), int(match[2]), int(match[3]))


def spell_version(version: Version, flavour: Flavour) -> str:
    """How the control plane and MachineDeployments of ``flavour`` spell ``version``."""
    if flavour == "rke2":
        return f"v{version}+rke2r1"
    return f"v{version}"


def next_step(current: Version, target: Version) -> Version:
    """The next version to roll out from ``current`` towards a newer ``target`` (same major).

    One minor at a time: ``1.32.4 -> 1.34.1`` steps to ``1.33.0``, then ``1.34.1``; within
    the target's minor it is the target itself.
    """
    if current.minor + 1 < target.minor:
        return Version(current.major, current.minor + 1, 0)
    return target
