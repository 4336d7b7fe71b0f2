"""The Cedar request of each proxied API call, built once per distinct call.

A proxied request is decided by Cedar from who calls (user, groups), where (cluster and its
labels) and what (verb, API group, resource, subresource, namespace, name, source address).
Clients repeat the same few calls (kubectl get, a controller's list and watch), so
:class:`RequestMemo` keeps the built :class:`lattice_pulumi.policy.Request` (its entity
documents and decision-cache key computed once) per distinct combination; a label change
of the cluster is part of the key, so a relabelled cluster gets fresh entities at once. The
decision itself is cached by the authorizer, per policy set (a reload starts afresh).
Used by :class:`lattice_pulumi.cell.proxy_server.ProxyServer`.
"""

from __future__ import annotations

from collections.abc import Mapping

from lattice_pulumi.cell.authn import Caller
from lattice_pulumi.cell.requestinfo import RequestInfo, cedar_verb
from lattice_pulumi.policy import ClusterContext, Request
from lattice_pulumi.policy import requests as cedar_requests
from lattice_pulumi.policy import schema as cedar_schema

__all__ = ["RequestMemo", "build_cedar_request"]

_Key = tuple[str, tuple[str, ...], str, tuple[tuple[str, str], ...], RequestInfo, str | None]


def build_cedar_request(
    caller: Caller,
    cluster: str,
    labels: Mapping[str, str],
    info: RequestInfo,
    remote: str | None,
) -> Request | None:
    """The Cedar request for one API call; ``None`` for a verb Cedar has no action for."""
    verb = cedar_verb(info)
    if verb not in cedar_schema.VERBS:
        return None
    context = ClusterContext(
        source_ip=remote or None,
        api_group=info.api_group,
        resource=info.resource,
        subresource=info.subresource,
        name=info.name,
    )
    return cedar_requests.cluster_access(
        caller.user,
        caller.groups,
        cluster,
        labels,
        verb,
        namespace=info.namespace,
        context=context,
    )


class RequestMemo:
    """Built requests by (caller, cluster, labels, call, source); at most ``limit``."""

    def __init__(self, limit: int = 4096) -> None:
        self._limit = limit
        self._built: dict[_Key, Request | None] = {}

    def request_for(
        self,
        caller: Caller,
        cluster: str,
        labels: Mapping[str, str],
        info: RequestInfo,
        remote: str | None,
    ) -> Request | None:
        key: _Key = (
            caller.user,
            caller.groups,
            cluster,
            tuple(sorted(labels.items())),
            info,
            remote,
        )
        try:
            return self._built[key]
        except KeyError:
            pass
        built = build_cedar_request(caller, cluster, labels, info, remote)
        if len(self._built) >= self._limit:
            self._built.clear()
        self._built[key] = built
        return built
