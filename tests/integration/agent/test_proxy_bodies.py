"""Request bodies through the API proxy: streamed hop by hop with credits, limited, and
never in the way of the session's commands. The real fleet of ``proxy_support``: root ->
prod -> us-east with real API servers; bob may do anything in us-east."""

from __future__ import annotations

import asyncio
import json
import ssl
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx2
import pytest
from conftest import CellFactory, RunningAgents
from harness.control_plane import ControlPlane
from proxy_support import Fleet, delete_quietly, running_fleet

from lattice_pulumi import pki
from lattice_pulumi.protocol import pb
from lattice_pulumi.protocol.tunnel import DEFAULT_WINDOW, MAX_CHUNK

pytestmark = pytest.mark.integration

CONFIGMAPS = "/clusters/us-east/api/v1/namespaces/default/configmaps"
LIMIT = 3 * 1024 * 1024  # the proxy's default max_body


@pytest.fixture
async def fleet(
    control_plane: ControlPlane,
    proxy_children: dict[str, ControlPlane],
    cell_factory: CellFactory,
    agents: RunningAgents,
    ca: pki.CertificateAuthority,
    server_certificate: pki.IssuedCertificate,
    tmp_path: Path,
) -> AsyncIterator[Fleet]:
    async with running_fleet(
        control_plane, proxy_children, cell_factory, agents, ca, server_certificate, tmp_path / "f"
    ) as running:
        yield running


def bob(fleet: Fleet) -> httpx2.AsyncClient:
    context = ssl.create_default_context(cafile=str(fleet.ca_file))
    headers = {"Authorization": f"Bearer {fleet.tokens['bob']}"}
    return httpx2.AsyncClient(base_url=fleet.proxy.url, verify=context, headers=headers, timeout=60)


def configmap(name: str, size: int) -> bytes:
    body = {
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": {"name": name, "namespace": "default"},
        "data": {"k": "x" * size},
    }
    return json.dumps(body).encode()


async def in_pieces(data: bytes, size: int = 10_000) -> AsyncIterator[bytes]:
    """A body without Content-Length (chunked), as a client that streams sends it."""
    for start in range(0, len(data), size):
        yield data[start : start + size]
        await asyncio.sleep(0)


def stored_size(fleet: Fleet, name: str) -> int:
    stored: dict[str, Any] = fleet.planes["us-east"].client.get("v1", "ConfigMap", name, "default")
    return len(stored["data"]["k"])


async def test_bodies_larger_than_the_window_stream_two_hops_down(fleet: Fleet) -> None:
    size = 900_000  # more than three windows: credits must flow back over both hops
    assert size > 3 * DEFAULT_WINDOW > MAX_CHUNK
    names = ["sized-upload", "chunked-upload"]
    try:
        async with bob(fleet) as client:
            sized = await client.post(CONFIGMAPS, content=configmap(names[0], size))
            chunked = await client.post(CONFIGMAPS, content=in_pieces(configmap(names[1], size)))
        assert sized.status_code == 201, sized.text
        assert chunked.status_code == 201, chunked.text
        assert [stored_size(fleet, name) for name in names] == [size, size]
    finally:
        for name in names:
            delete_quietly(fleet.planes["us-east"].client, "v1", "ConfigMap", name, "default")


@pytest.mark.parametrize("chunked", [False, True], ids=["with Content-Length", "chunked"])
async def test_a_body_over_the_limit_gets_a_413_status_and_nothing_is_created(
    fleet: Fleet, chunked: bool
) -> None:
    data = configmap("too-big", LIMIT + 100_000)
    async with bob(fleet) as client:
        response = await client.post(CONFIGMAPS, content=in_pieces(data) if chunked else data)
    assert response.status_code == 413
    status = response.json()
    assert (status["kind"], status["reason"]) == ("Status", "RequestEntityTooLarge")
    assert status["message"] == f"request body over {LIMIT} bytes"
    found = fleet.planes["us-east"].client.find("v1", "ConfigMap", "too-big", "default")
    assert found is None
    await asyncio.sleep(0.5)  # the cancel reaches every hop
    assert not fleet.root.tunnels.open_streams() and not fleet.prod.tunnels.open_streams()


async def test_commands_are_answered_while_many_uploads_stream_through_the_tunnel(
    fleet: Fleet,
) -> None:
    """Sixteen 900 kB uploads queue far more proxy frames than the 64 commands the session
    holds; a status request to prod is still accepted and answered meanwhile."""
    names = [f"burst-{i}" for i in range(16)]
    status = pb.CellCommand(status_request=pb.StatusRequest())
    try:
        async with bob(fleet) as client:
            uploads = [
                asyncio.create_task(
                    client.post(CONFIGMAPS, content=in_pieces(configmap(n, 900_000)))
                )
                for n in names
            ]
            await asyncio.sleep(0.05)
            replies = [await fleet.root.request("prod", status, 30) for _ in range(5)]
            answers = await asyncio.gather(*uploads)
        assert all(reply.ok for reply in replies)
        assert [a.status_code for a in answers] == [201] * len(names)
    finally:
        for name in names:
            delete_quietly(fleet.planes["us-east"].client, "v1", "ConfigMap", name, "default")
