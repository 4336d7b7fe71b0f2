"""The agent/cell wire protocol: generated messages, version rules and channel settings.

Shared by :mod:`lattice_pulumi.cell` and :mod:`lattice_pulumi.agent` so neither imports the
other. ``pb`` holds the message classes, ``pb_grpc`` the service stubs.
"""

from lattice_pulumi.protocol.gen import agent_pb2 as pb
from lattice_pulumi.protocol.gen import agent_pb2_grpc as pb_grpc
from lattice_pulumi.protocol.options import DEFAULT_MAX_MESSAGE_BYTES, channel_options
from lattice_pulumi.protocol.versions import (
    CURRENT,
    MAX_MINOR_SKEW,
    PROXY_SINCE,
    UPGRADE_SINCE,
    ProtocolVersion,
    ProtocolVersionError,
    check_compatible,
)

__all__ = [
    "CURRENT",
    "DEFAULT_MAX_MESSAGE_BYTES",
    "MAX_MINOR_SKEW",
    "PROXY_SINCE",
    "UPGRADE_SINCE",
    "ProtocolVersion",
    "ProtocolVersionError",
    "channel_options",
    "check_compatible",
    "pb",
    "pb_grpc",
]
