"""The agent's keep-alive connections to its own API server, for tunnelled requests.

:class:`ApiServerPool` relays raw HTTP requests over aiohttp (its C HTTP parser and a
keep-alive connection pool) with the server URL, TLS settings and credentials of the
agent's lightkube client: lightkube's ``httpx2`` stack spends about four times the CPU of
aiohttp per small request (``benchmarks/proxy_floor.py``), and a proxied request is mostly
that. Bodies pass untouched both ways (no decompression, no default ``Accept-Encoding`` or
``User-Agent``: the client's headers are the request's).

Credentials: a client certificate is in the TLS context; a bearer token (static, a
ServiceAccount token file, an exec plugin) comes from the lightkube client's own auth flow,
run once and again whenever the API server answers 401 (a rotated token is read anew, as
lightkube does). A 401 to a request whose body is in memory is retried once with the new
token; a streamed body cannot be sent twice, so the 401 goes back to the caller.
Used by :class:`lattice_pulumi.agent.proxy.KubeProxy`.
"""

from __future__ import annotations

import contextlib
import ssl
from collections.abc import AsyncIterable, AsyncIterator, Sequence

import aiohttp
import httpx2

__all__ = ["ApiServerPool", "Body"]

CONNECT_TIMEOUT = 10.0
POOL_SIZE = 64  # open connections to the API server at most (kube-apiserver allows many)
_AUTO_HEADERS = ("Accept", "Accept-Encoding", "User-Agent", "Content-Type")

Body = bytes | AsyncIterable[bytes] | None


def _ssl_context(http: httpx2.AsyncClient) -> ssl.SSLContext | None:
    """The TLS context lightkube built (CA and client certificate); httpx2 keeps it in
    its transport's pool, which has no public accessor."""
    pool = getattr(getattr(http, "_transport", None), "_pool", None)
    context = getattr(pool, "_ssl_context", None)
    return context if isinstance(context, ssl.SSLContext) else None


class ApiServerPool:
    """Raw requests to the API server ``http`` is configured for, over kept-alive
    connections (the aiohttp session is made on first use, in the running loop)."""

    def __init__(self, http: httpx2.AsyncClient, *, limit: int = POOL_SIZE) -> None:
        self.base_url = str(http.base_url).rstrip("/")
        self._http = http
        self._ssl = _ssl_context(http)
        self._limit = limit
        self._session: aiohttp.ClientSession | None = None
        self._authorization: str | None = None
        self._authorized = False

    def _client(self) -> aiohttp.ClientSession:
        if self._session is None or self._session.closed:
            connector = aiohttp.TCPConnector(
                limit=self._limit, ssl=self._ssl if self._ssl is not None else True
            )
            self._session = aiohttp.ClientSession(
                connector=connector,
                auto_decompress=False,
                skip_auto_headers=_AUTO_HEADERS,
                trust_env=False,
            )
        return self._session

    async def _credential(self, *, rejected: bool = False) -> str | None:
        """The Authorization header lightkube's auth flow gives; ``rejected`` tells the
        flow the last one got a 401 (it then reads a rotated token or runs its plugin)."""
        if self._authorized and not rejected:
            return self._authorization
        auth = self._http.auth
        if auth is None:  # a client certificate only (in the TLS context)
            self._authorized = True
            return None
        probe = httpx2.Request("GET", self.base_url + "/")
        flow = auth.async_auth_flow(probe)
        try:
            sent = await flow.__anext__()
            if rejected:
                with contextlib.suppress(StopAsyncIteration):
                    sent = await flow.asend(httpx2.Response(401, request=sent))
        finally:
            await flow.aclose()
        self._authorization = sent.headers.get("Authorization")
        self._authorized = True
        return self._authorization

    @contextlib.asynccontextmanager
    async def request(
        self,
        method: str,
        path: str,
        headers: Sequence[tuple[str, str]],
        body: Body,
        timeout: float | None,
    ) -> AsyncIterator[aiohttp.ClientResponse]:
        """The API server's response to one request (its body not read yet); raises
        ``aiohttp.ClientError`` or ``TimeoutError`` when it cannot be had."""
        limits = aiohttp.ClientTimeout(total=timeout, sock_connect=CONNECT_TIMEOUT)
        for attempt in (1, 2):
            sent = list(headers)
            authorization = await self._credential(rejected=attempt == 2)
            if authorization:
                sent.append(("Authorization", authorization))
            response = await self._client().request(
                method, self.base_url + path, headers=sent, data=body, timeout=limits
            )
            retry = response.status == 401 and attempt == 1
            if retry and not isinstance(body, bytes | None):
                await self._credential(rejected=True)  # for the requests after this one
                retry = False
            if retry:
                response.release()
                continue
            try:
                yield response
            finally:
                if response.content.at_eof():
                    response.release()  # the connection is kept for the next request
                else:
                    response.close()  # abandoned (a watch the client left): drop it
            return

    async def aclose(self) -> None:
        session, self._session = self._session, None
        if session is not None:
            await session.close()
