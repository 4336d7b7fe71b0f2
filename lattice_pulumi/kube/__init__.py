"""The project's one Kubernetes client: lightkube, configured and wrapped at the boundary.

:func:`connect` makes a ``lightkube.AsyncClient`` from an explicit kubeconfig file (tests,
out-of-cluster runs) or, without one, from the pod's service account (in-cluster).
:func:`api_errors` turns what lightkube and its HTTP library raise into :class:`KubeError`
(a ``LatticeError``), so callers above this module never see a lightkube or httpx type in
an exception. :func:`server_version` reads ``/version``.

Shared by the agent, and later the cell and operator: this package imports neither.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import httpx2
from lightkube import AsyncClient, ConfigError, KubeConfig
from lightkube.core.exceptions import ApiError

from lattice_pulumi.errors import LatticeError

__all__ = [
    "DEFAULT_TIMEOUT",
    "KubeError",
    "NotFoundError",
    "api_errors",
    "connect",
    "connect_with",
    "http_client",
    "in_cluster",
    "server_version",
]

DEFAULT_TIMEOUT = 10.0  # seconds, for every request (watches excepted)


class KubeError(LatticeError):
    """A Kubernetes API call failed; ``status`` is the HTTP status (0: no answer at all)."""

    def __init__(self, message: str, *, status: int = 0, reason: str = "") -> None:
        self.status = status
        self.reason = reason
        super().__init__(message)


class NotFoundError(KubeError):
    """The object asked for does not exist (HTTP 404)."""


def in_cluster() -> bool:
    """Whether this process runs in a pod (the API server's Service is in the environment)."""
    return bool(os.environ.get("KUBERNETES_SERVICE_HOST"))


@contextlib.contextmanager
def api_errors(action: str) -> Iterator[None]:
    """Translate lightkube/httpx errors raised inside the block into :class:`KubeError`.

    ``action`` says what was being done ("list nodes") and starts the message.
    """
    try:
        yield
    except ApiError as exc:
        status = exc.status
        code = int(status.code or exc.response.status_code)
        reason = status.reason or ""
        kind = NotFoundError if code == 404 else KubeError
        head = f"{action}: HTTP {code}" + (f" {reason}" if reason else "")
        raise kind(
            f"{head}: {status.message or 'no details'}", status=code, reason=reason
        ) from None
    except httpx2.HTTPError as exc:
        raise KubeError(f"{action}: cannot reach the Kubernetes API: {exc}") from exc
    except ConfigError as exc:
        raise KubeError(f"{action}: unusable Kubernetes client configuration: {exc}") from None


def connect(
    kubeconfig: Path | None = None,
    *,
    namespace: str | None = None,
    field_manager: str = "lattice",
    timeout: float = DEFAULT_TIMEOUT,
) -> AsyncClient:
    """A client from ``kubeconfig`` (its current context), or the pod's service account.

    The caller owns the client: close it with ``await client.aclose()``. Proxy variables
    of the environment are ignored (``trust_env=False``): the API server is dialled directly.
    """
    with api_errors("configure the Kubernetes client"):
        config = (
            KubeConfig.from_file(kubeconfig)
            if kubeconfig is not None
            else KubeConfig.from_service_account()
        )
        return AsyncClient(
            config,
            namespace=namespace,
            field_manager=field_manager,
            timeout=httpx2.Timeout(timeout),
            trust_env=False,
        )


def connect_with(
    kubeconfig: Mapping[str, Any],
    *,
    field_manager: str = "lattice",
    timeout: float = DEFAULT_TIMEOUT,
) -> AsyncClient:
    """A client from kubeconfig *data* (a Cluster API ``<cluster>-kubeconfig`` Secret's
    ``value``, parsed), never written to a file. The caller closes it."""
    with api_errors("configure the Kubernetes client"):
        return AsyncClient(
            KubeConfig.from_dict(dict(kubeconfig)),
            field_manager=field_manager,
            timeout=httpx2.Timeout(timeout),
            trust_env=False,
        )


def http_client(client: AsyncClient) -> httpx2.AsyncClient:
    """The HTTP client inside ``client``: server URL, CA and credentials already set.

    lightkube has no call for non-resource paths (``/version``) nor for relaying raw
    requests (the agent's API proxy); reaching its HTTP client is the one private step.
    """
    http: httpx2.AsyncClient = client._client._client
    return http


async def server_version(client: AsyncClient) -> str:
    """The API server's ``gitVersion`` (``v1.33.1``), from ``GET /version``."""
    http = http_client(client)
    with api_errors("read the Kubernetes version"):
        response = await http.get("/version")
        response.raise_for_status()
        version = response.json().get("gitVersion", "")
    return str(version)
