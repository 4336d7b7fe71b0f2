"""What a Kubernetes API request asks for, read from its method, path and query.

A pure function modelled on kube-apiserver's ``RequestInfoFactory`` (staging
``k8s.io/apiserver/pkg/endpoints/request/requestinfo.go``): ``/api/v1/...`` is the core
group, ``/apis/<group>/<version>/...`` any other; ``namespaces/<ns>/<resource>`` puts a
resource in a namespace (``namespaces/<ns>/status`` and ``/finalize`` are subresources of
the namespace itself); the verb is ``get``/``list``/``watch`` for reads (``watch`` when the
query says ``watch=true`` or the path uses the legacy ``/watch/`` prefix), ``create``,
``update``, ``patch``, ``delete`` or ``deletecollection`` for writes. Anything else
(``/version``, ``/api``, ``/apis/<group>``, ``/openapi/v2``) is a non-resource request with
the lower-case HTTP method as verb. Used by the cell's API proxy before Cedar decides.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from urllib.parse import parse_qs, urlsplit

__all__ = ["EXEC_SUBRESOURCES", "RequestInfo", "cedar_verb", "parse_request"]

_NAMESPACE_SUBRESOURCES = frozenset({"status", "finalize"})
# Subresources of pods that open a session in a container; Cedar's "exec" action covers them.
EXEC_SUBRESOURCES = frozenset({"exec", "attach", "portforward"})
_READ_METHODS = frozenset({"GET", "HEAD"})
_WRITE_VERBS = {"POST": "create", "PUT": "update", "PATCH": "patch"}


@dataclass(frozen=True)
class RequestInfo:
    """The parts of a request that authorization looks at."""

    verb: str
    path: str
    is_resource_request: bool = False
    api_group: str = ""
    api_version: str = ""
    namespace: str = ""
    resource: str = ""
    subresource: str = ""
    name: str = ""

    @property
    def streaming(self) -> bool:
        """Whether the response is open-ended (a watch), so no overall timeout applies."""
        return self.verb == "watch"

    def describe(self) -> str:
        """``list pods`` / ``get apps/deployments/web`` / ``get /version``, for logs."""
        if not self.is_resource_request:
            return f"{self.verb} {self.path}"
        what = "/".join(p for p in (self.api_group, self.resource, self.name) if p)
        sub = f"/{self.subresource}" if self.subresource else ""
        where = f" in {self.namespace}" if self.namespace else ""
        return f"{self.verb} {what}{sub}{where}"


def _flag(query: dict[str, list[str]], key: str) -> bool:
    values = query.get(key) or []
    return bool(values) and values[-1].lower() in ("1", "true")


@functools.lru_cache(maxsize=4096)  # pure; clients repeat the same few requests
def parse_request(method: str, target: str) -> RequestInfo:
    """Read ``target`` (path and query) of a ``method`` request like kube-apiserver."""
    method = method.upper()
    split = urlsplit(target)
    path = split.path or "/"
    query = parse_qs(split.query)
    parts = [p for p in path.strip("/").split("/") if p]
    non_resource = RequestInfo(verb=method.lower(), path=path)
    if not parts or parts[0] not in ("api", "apis"):
        return non_resource
    if parts[0] == "api":
        group, rest = "", parts[1:]
    else:
        group, rest = (parts[1], parts[2:]) if len(parts) > 1 else ("", [])
    if not rest or len(rest) < 2:  # /api, /api/v1, /apis/apps, /apis/apps/v1: discovery
        return non_resource
    version, rest = rest[0], rest[1:]
    legacy_watch = rest[0] == "watch"
    if legacy_watch:
        rest = rest[1:]
    namespace = ""
    if rest and rest[0] == "namespaces" and len(rest) > 1:
        namespace = rest[1]
        if len(rest) > 2 and rest[2] not in _NAMESPACE_SUBRESOURCES:
            rest = rest[2:]
    if not rest:
        return non_resource
    resource = rest[0]
    name = rest[1] if len(rest) > 1 else ""
    subresource = rest[2] if len(rest) > 2 else ""
    verb = _verb(method, bool(name), legacy_watch or _flag(query, "watch"))
    if verb is None:
        return non_resource
    return RequestInfo(
        verb=verb,
        path=path,
        is_resource_request=True,
        api_group=group,
        api_version=version,
        namespace=namespace,
        resource=resource,
        subresource=subresource,
        name=name,
    )


def _verb(method: str, named: bool, watch: bool) -> str | None:
    if method in _READ_METHODS:
        if watch:
            return "watch"
        return "get" if named else "list"
    if method == "DELETE":
        return "delete" if named else "deletecollection"
    return _WRITE_VERBS.get(method)


def cedar_verb(info: RequestInfo) -> str:
    """The Cedar action for ``info``: its verb, ``exec`` for sessions in pods, and ``get``
    for non-resource reads (discovery, ``/version``); other non-resource verbs stay as
    they are and match no action, so they are denied."""
    if info.resource == "pods" and info.subresource in EXEC_SUBRESOURCES:
        return "exec"
    if not info.is_resource_request and info.verb in ("get", "head"):
        return "get"
    return info.verb
