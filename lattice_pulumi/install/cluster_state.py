"""Blocking reads (and the one delete) that the install phases make on a cluster.

Each call opens a lightkube client from a kubeconfig file (``lattice_pulumi.kube``, the one
client library), does one thing and closes it, so the phase machine stays plain
synchronous code between its Pulumi updates. A kind the server does not serve reads as
absent (its CRD is not installed yet, or was removed).
"""

from __future__ import annotations

import asyncio
import base64
from collections.abc import Awaitable, Callable, Mapping, Sequence
from pathlib import Path
from typing import Any, TypeVar

from lattice_pulumi import kube
from lattice_pulumi.errors import InstallError
from lattice_pulumi.kube import KubeError, NotFoundError
from lattice_pulumi.kube.objects import ResourceCatalog, UnservedKind

__all__ = [
    "CAPI",
    "delete",
    "existing",
    "get",
    "list_in",
    "reachable",
    "read_secret_value",
    "require_reachable",
]

CAPI = "cluster.x-k8s.io/v1beta2"
"""The Cluster API core group at the version the installed controllers serve."""
_T = TypeVar("_T")
_TIMEOUT = 15.0


def _connect(kubeconfig: Path) -> Any:
    if not kubeconfig.is_file():
        raise KubeError(f"{kubeconfig} does not exist: expected a kubeconfig file")
    try:
        return kube.connect(kubeconfig, timeout=_TIMEOUT, field_manager="lattice-install")
    except KubeError:
        raise
    except Exception as exc:  # lightkube's parser fails in many ways on a non-kubeconfig
        raise KubeError(
            f"not a kubeconfig (clusters, users, contexts): {type(exc).__name__}"
        ) from None


def _run(kubeconfig: Path, call: Callable[[ResourceCatalog], Awaitable[_T]]) -> _T:
    async def main() -> _T:
        client = _connect(kubeconfig)
        try:
            return await call(ResourceCatalog(client))
        finally:
            await client.aclose()

    return asyncio.run(main())


def require_reachable(kubeconfig: Path, what: str) -> str:
    """The server's version; InstallError in one line when it does not answer."""
    try:
        return _run(kubeconfig, lambda catalog: kube.server_version(catalog.client))
    except KubeError as exc:
        raise InstallError(f"{what} {kubeconfig}: {exc}") from None
    except OSError as exc:
        raise InstallError(f"{what} {kubeconfig}: cannot read it: {exc.strerror}") from None


def reachable(kubeconfig: Path) -> bool:
    """Whether the API server of ``kubeconfig`` answers."""
    try:
        require_reachable(kubeconfig, "kubeconfig")
    except InstallError:
        return False
    return True


async def _path(
    catalog: ResourceCatalog, api_version: str, kind: str, name: str, namespace: str | None
) -> str | None:
    try:
        served = await catalog.kind(api_version, kind)
    except UnservedKind:
        return None
    base = "/api/v1" if api_version == "v1" else f"/apis/{api_version}"
    where = f"/namespaces/{namespace}" if served.namespaced and namespace else ""
    return f"{base}{where}/{served.plural}/{name}" if name else f"{base}{where}/{served.plural}"


def get(
    kubeconfig: Path, api_version: str, kind: str, name: str, namespace: str | None = None
) -> dict[str, Any] | None:
    """One object, or None when it (or its kind) does not exist."""

    async def call(catalog: ResourceCatalog) -> dict[str, Any] | None:
        path = await _path(catalog, api_version, kind, name, namespace)
        if path is None:
            return None
        with kube.api_errors(f"read {kind} {name}"):
            response = await kube.http_client(catalog.client).get(path)
            if response.status_code == 404:
                return None
            response.raise_for_status()
        body: dict[str, Any] = response.json()
        return body

    return _run(kubeconfig, call)


def list_in(
    kubeconfig: Path, api_version: str, kind: str, namespace: str | None = None
) -> list[dict[str, Any]]:
    """Every object of ``kind`` in ``namespace`` (or cluster-wide); [] when unserved."""

    async def call(catalog: ResourceCatalog) -> list[dict[str, Any]]:
        path = await _path(catalog, api_version, kind, "", namespace)
        if path is None:
            return []
        with kube.api_errors(f"list {kind}"):
            response = await kube.http_client(catalog.client).get(path)
            if response.status_code == 404:
                return []
            response.raise_for_status()
        return list(response.json().get("items", []))

    return _run(kubeconfig, call)


def existing(kubeconfig: Path, objects: Sequence[Mapping[str, Any]]) -> list[str]:
    """``Kind/namespace/name`` of each of ``objects`` that exists already."""
    found = []
    for obj in objects:
        meta = obj["metadata"]
        name, namespace = meta["name"], meta.get("namespace")
        if get(kubeconfig, obj["apiVersion"], obj["kind"], name, namespace) is not None:
            found.append(f"{obj['kind']}/{namespace or ''}/{name}")
    return found


def read_secret_value(kubeconfig: Path, name: str, namespace: str, key: str) -> str | None:
    """One decoded key of a Secret (never logged), or None when absent."""
    secret = get(kubeconfig, "v1", "Secret", name, namespace)
    value = ((secret or {}).get("data") or {}).get(key)
    return base64.b64decode(value).decode() if value else None


def delete(kubeconfig: Path, api_version: str, kind: str, name: str, namespace: str) -> bool:
    """Delete one object (the controllers' finalizers run); False when already gone."""

    async def call(catalog: ResourceCatalog) -> bool:
        path = await _path(catalog, api_version, kind, name, namespace)
        if path is None:
            return False
        try:
            with kube.api_errors(f"delete {kind} {name}"):
                response = await kube.http_client(catalog.client).delete(path)
                if response.status_code == 404:
                    raise NotFoundError(f"{kind} {name} not found", status=404)
                response.raise_for_status()
        except NotFoundError:
            return False
        return True

    return _run(kubeconfig, call)
