"""gRPC settings both ends must agree on: message size limits and keepalive.

The cell server and the agent channel are built with :func:`channel_options`, so a message
above the limit is refused by whichever side receives it (gRPC checks the length prefix and
answers RESOURCE_EXHAUSTED without buffering the body).
"""

from __future__ import annotations

__all__ = [
    "DEFAULT_MAX_MESSAGE_BYTES",
    "KEEPALIVE_MS",
    "channel_options",
]

DEFAULT_MAX_MESSAGE_BYTES = 4 * 1024 * 1024
KEEPALIVE_MS = 30_000

ChannelOption = tuple[str, int | str]


def channel_options(
    max_message_bytes: int = DEFAULT_MAX_MESSAGE_BYTES, *, client: bool = False
) -> list[ChannelOption]:
    """Options for ``grpc.aio.server`` (``client=False``) or ``grpc.aio.secure_channel``."""
    if max_message_bytes <= 0:
        raise ValueError("max_message_bytes must be positive")
    options: list[ChannelOption] = [
        ("grpc.max_receive_message_length", max_message_bytes),
        ("grpc.max_send_message_length", max_message_bytes),
        ("grpc.keepalive_time_ms", KEEPALIVE_MS),
        ("grpc.keepalive_permit_without_calls", 1),
    ]
    if client:
        # A private subchannel pool: each session dials afresh instead of inheriting the
        # reconnect backoff of an earlier, failed channel to the same address.
        options.append(("grpc.use_local_subchannel_pool", 1))
    else:
        options.append(("grpc.http2.min_ping_interval_without_data_ms", KEEPALIVE_MS // 2))
    return options
