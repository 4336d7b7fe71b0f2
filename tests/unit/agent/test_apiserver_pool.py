"""The agent's API server connections: credentials from the lightkube client's auth flow,
read anew after a 401 (a rotated ServiceAccount token), bodies passed untouched.

A real aiohttp server on loopback plays the API server's authentication (it accepts one
token); the client side is lightkube's own token-file auth inside an httpx2 client, as the
agent's lightkube client holds it in a pod.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import httpx2
import pytest
from aiohttp import web
from lightkube.config.client_adapter import BearerTokenFileAuth

from lattice_pulumi.agent.apiserver import ApiServerPool


@pytest.fixture
async def server() -> AsyncIterator[tuple[str, list[tuple[str, bytes]]]]:
    seen: list[tuple[str, bytes]] = []

    async def answer(request: web.BaseRequest) -> web.Response:
        seen.append((request.headers.get("Authorization", ""), await request.read()))
        if request.headers.get("Authorization") != "Bearer rotated":
            return web.Response(status=401, text="Unauthorized")
        return web.Response(body=b'{"kind":"Status"}', content_type="application/json")

    runner = web.ServerRunner(web.Server(answer), handle_signals=False)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    yield f"http://127.0.0.1:{port}", seen
    await runner.cleanup()


async def test_a_rotated_token_is_read_after_a_401_and_the_request_sent_again(
    server: tuple[str, list[tuple[str, bytes]]], tmp_path: Path
) -> None:
    url, seen = server
    token = tmp_path / "token"
    token.write_text("expired")
    http = httpx2.AsyncClient(base_url=url, auth=BearerTokenFileAuth(str(token)))
    pool = ApiServerPool(http)
    try:
        async with pool.request("GET", "/version", [], None, 10) as response:
            assert response.status == 401  # sent twice: the token file still says "expired"
        token.write_text("rotated")  # the kubelet rotates the projected token
        async with pool.request("POST", "/api/v1/x", [("X-Id", "1")], b"body", 10) as response:
            assert response.status == 200
            assert await response.read() == b'{"kind":"Status"}'
        assert seen == [
            ("Bearer expired", b""),
            ("Bearer expired", b""),
            ("Bearer expired", b"body"),
            ("Bearer rotated", b"body"),  # the in-memory body was sent again
        ]
    finally:
        await pool.aclose()
        await http.aclose()


async def test_a_streamed_body_refused_with_401_is_not_sent_again(
    server: tuple[str, list[tuple[str, bytes]]], tmp_path: Path
) -> None:
    url, seen = server
    token = tmp_path / "token"
    token.write_text("expired")
    http = httpx2.AsyncClient(base_url=url, auth=BearerTokenFileAuth(str(token)))
    pool = ApiServerPool(http)

    async def pieces() -> AsyncIterator[bytes]:
        yield b"first "
        yield b"second"

    try:
        async with pool.request("POST", "/x", [], pieces(), 10) as response:
            assert response.status == 401  # once: a streamed body cannot be sent again
        token.write_text("rotated")
        async with pool.request("GET", "/x", [], None, 10) as response:
            assert response.status == 200
        assert seen == [
            ("Bearer expired", b"first second"),
            ("Bearer expired", b""),
            ("Bearer rotated", b""),
        ]
    finally:
        await pool.aclose()
        await http.aclose()
