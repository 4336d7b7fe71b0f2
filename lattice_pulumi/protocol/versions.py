"""Protocol versions and the skew rule shared by cell and agent.

Both ends advertise ``major.minor`` (Hello / Welcome). Same major and minors at most
:data:`MAX_MINOR_SKEW` apart interoperate; anything else is refused with a message that names
both versions. Bump the minor for additive changes, the major for breaking ones.
"""

from __future__ import annotations

from dataclasses import dataclass

from lattice_pulumi.errors import LatticeError
from lattice_pulumi.protocol.gen import agent_pb2 as pb

__all__ = [
    "CURRENT",
    "MAX_MINOR_SKEW",
    "PROXY_SINCE",
    "UPGRADE_SINCE",
    "ProtocolVersion",
    "ProtocolVersionError",
    "check_compatible",
]

MAX_MINOR_SKEW = 1


class ProtocolVersionError(LatticeError):
    """The two ends speak protocol versions that cannot interoperate."""


@dataclass(frozen=True, order=True)
class ProtocolVersion:
    """``major.minor`` of the agent/cell protocol."""

    major: int
    minor: int

    def __str__(self) -> str:
        return f"{self.major}.{self.minor}"

    def to_proto(self) -> pb.ProtocolVersion:
        return pb.ProtocolVersion(major=self.major, minor=self.minor)

    @classmethod
    def from_proto(cls, msg: pb.ProtocolVersion) -> ProtocolVersion:
        return cls(msg.major, msg.minor)

    @classmethod
    def parse(cls, text: str) -> ProtocolVersion:
        major, sep, minor = text.partition(".")
        if not sep or not major.isdigit() or not minor.isdigit():
            raise ValueError(f"protocol version must read MAJOR.MINOR, got {text!r}")
        return cls(int(major), int(minor))


# 1.1 added provider, role, pools, subtree details and the fleet read API (all additive).
# 1.2 added the API proxy (ProxyFrame both ways) and cluster labels (all additive).
# 1.3 added upgraded proxy streams (ProxyStart.upgrade: exec, attach, port-forward) and the
# distribution results (ApplyResult.deleted, SyncProblem) (all additive).
CURRENT = ProtocolVersion(1, 3)
# The first version whose agents answer ProxyFrames.
PROXY_SINCE = ProtocolVersion(1, 2)
# The first version whose agents relay upgraded requests (ProxyStart.upgrade).
UPGRADE_SINCE = ProtocolVersion(1, 3)


def check_compatible(local: ProtocolVersion, remote: ProtocolVersion, *, remote_role: str) -> None:
    """Raise :class:`ProtocolVersionError` unless ``remote`` may talk to ``local``."""
    if remote.major != local.major:
        raise ProtocolVersionError(
            f"{remote_role} speaks protocol {remote} but this side speaks {local}: "
            "major versions differ and cannot interoperate; upgrade the older side"
        )
    if abs(remote.minor - local.minor) > MAX_MINOR_SKEW:
        raise ProtocolVersionError(
            f"{remote_role} speaks protocol {remote}, more than {MAX_MINOR_SKEW} minor "
            f"version away from {local}; upgrade the older side first"
        )
