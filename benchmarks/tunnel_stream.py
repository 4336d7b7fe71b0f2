"""Measure one tunnelled request's stream bookkeeping at the cell, with no network.

What :class:`lattice_pulumi.protocol.tunnel.TunnelStream` costs the cell per small request:
the stream is made, the start frame goes out, the agent's one-frame answer (head, a 300-byte
body, ``last``) arrives from the session's reader on the next loop turn, and the handler
takes the head and the body. The gRPC write is a no-op here, so this is only the Python
around it, the part of ``benchmarks/proxy.py``'s cell CPU that this module owns.

    python benchmarks/tunnel_stream.py [--streams 20000]
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import time

from lattice_pulumi.protocol import pb
from lattice_pulumi.protocol.tunnel import TunnelStream

BODY = b'{"kind":"ConfigMap","apiVersion":"v1","data":{"k":"v"}}'.ljust(300)
HEADERS = [
    ("Audit-Id", "0" * 36),
    ("Cache-Control", "no-cache, private"),
    ("Content-Type", "application/json"),
    ("X-Kubernetes-Pf-Flowschema-Uid", "1" * 36),
    ("X-Kubernetes-Pf-Prioritylevel-Uid", "2" * 36),
]


async def _discard(frame: pb.ProxyFrame) -> None:
    del frame


def answer(stream_id: str) -> pb.ProxyFrame:
    """The agent's answer to a small GET, as its session reader hands it over."""
    frame = pb.ProxyFrame(stream_id=stream_id, last=True)
    frame.head.status = 200
    for name, value in HEADERS:
        frame.head.headers.add(name=name, value=value)
    frame.head.body = BODY
    return frame


async def one_request(number: int) -> None:
    stream = TunnelStream(f"{number:x}", _discard)
    start = pb.ProxyFrame(last=True)
    start.start.cluster, start.start.method, start.start.path = "bench", "GET", "/api/v1"
    await stream.send_frame(start)
    asyncio.get_running_loop().call_soon(stream.deliver, answer(stream.stream_id))
    while (await stream.receive()).WhichOneof("kind") != "head":
        pass
    if await stream.read_body(stream.window) != BODY:
        raise AssertionError("the body did not come through whole")


async def measure(count: int, rounds: int) -> list[float]:
    for number in range(1000):  # warm up
        await one_request(number)
    per_round = []
    for _ in range(rounds):
        begun = time.perf_counter()
        for number in range(count):
            await one_request(number)
        per_round.append((time.perf_counter() - begun) / count * 1e6)
    return per_round


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--streams", type=int, default=20000, help="per round")
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    per_round = asyncio.run(measure(args.streams, args.rounds))
    print(f"one small request's stream at the cell ({args.rounds} rounds of {args.streams}):")
    print(
        f"  {statistics.median(per_round):.1f} µs median per request "
        f"(best {min(per_round):.1f}, worst {max(per_round):.1f}), "
        "including one event-loop turn for the answer"
    )


if __name__ == "__main__":
    main()
