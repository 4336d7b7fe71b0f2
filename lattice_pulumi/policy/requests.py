"""Authorization requests for the four lattice paths, with the entities they need.

Each builder returns a ``Request``: principal, action, resource, context, the Cedar JSON
entities describing them (as cached JSON fragments, so the hot path serialises nothing it
has seen before) and a plain-language description for messages. ``format_permit`` writes the
exact Cedar permit that would allow a request; ``denial_message`` writes the sentence a user
sees when one is refused.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from lattice_pulumi.policy import schema as cedar_schema

__all__ = [
    "ClusterContext",
    "EntityDoc",
    "Request",
    "cluster_access",
    "denial_message",
    "format_datetime",
    "format_permit",
    "secret_access",
    "security_override",
    "volume_access",
]

SERVICE_ACCOUNT_PREFIX = "system:serviceaccount:"


@dataclass(frozen=True)
class EntityDoc:
    """One entity as Cedar JSON text, with its uid (``Type::"id"``) to merge and dedupe by."""

    uid: str
    json: str


@dataclass(frozen=True)
class Request:
    """One question to the authorizer.

    ``principal``/``resource`` are ``(type, id)`` pairs without the ``Lattice::`` prefix;
    ``entities`` are the Cedar JSON documents of the entities involved, each uid once.
    ``subject`` and ``wants`` phrase the request for messages: "<subject> may not <wants>".
    """

    principal: tuple[str, str]
    action: str
    resource: tuple[str, str]
    context: Mapping[str, Any] = field(default_factory=dict)
    entities: tuple[EntityDoc, ...] = ()
    subject: str = ""
    wants: str = ""

    @functools.cached_property
    def cache_key(self) -> tuple[tuple[str, str], str, tuple[str, str], str, tuple[str, ...]]:
        """Everything a decision depends on, as a hashable key (computed once per request:
        a caller that keeps its requests, such as the API proxy, pays it once)."""
        context = json.dumps(self.context, sort_keys=True) if self.context else ""
        entities = tuple(e.json for e in self.entities)
        return (self.principal, self.action, self.resource, context, entities)

    def cedar_request(self) -> dict[str, Any]:
        """The request in cedarpy's form."""
        return {
            "principal": cedar_schema.entity_ref(*self.principal),
            "action": cedar_schema.entity_ref("Action", self.action),
            "resource": cedar_schema.entity_ref(*self.resource),
            "context": dict(self.context),
        }


@dataclass(frozen=True)
class ClusterContext:
    """What the proxy knows about a request besides who, what and where.

    ``api_group``, ``resource``, ``subresource`` and ``name`` are the request's parts as
    kube-apiserver's RequestInfo reads them ("" when not known or not a resource request).
    """

    time: datetime | None = None
    source_ip: str | None = None
    api_group: str = ""
    resource: str = ""
    subresource: str = ""
    name: str = ""


def format_permit(request: Request) -> str:
    """The narrowest Cedar permit statement that allows exactly this request."""
    principal = cedar_schema.uid_text(*request.principal)
    action = cedar_schema.action_uid(request.action)
    resource = cedar_schema.uid_text(*request.resource)
    return f"permit(principal == {principal}, action == {action}, resource == {resource});"


def denial_message(request: Request, reason: str) -> str:
    """``<subject> may not <wants>: <reason>``, plus the permit to add when none matched."""
    text = f"{request.subject} may not {request.wants}: {reason}"
    if reason.startswith("no permit"):
        text += f". Add: {format_permit(request)}"
    return text


# ---- entity documents (cached JSON fragments) ----------------------------------------------


def _entity(
    entity_type: str,
    entity_id: str,
    attrs: Mapping[str, Any] | None = None,
    parents: Sequence[tuple[str, str]] = (),
    tags: Mapping[str, str] | None = None,
) -> EntityDoc:
    document: dict[str, Any] = {
        "uid": cedar_schema.entity_ref(entity_type, entity_id),
        "attrs": dict(attrs or {}),
        "parents": [cedar_schema.entity_ref(t, i) for t, i in parents],
    }
    if tags is not None:
        document["tags"] = dict(tags)
    text = json.dumps(document, separators=(",", ":"), sort_keys=True)
    return EntityDoc(cedar_schema.uid_text(entity_type, entity_id), text)


def _ref(entity_type: str, entity_id: str) -> dict[str, Any]:
    return {"__entity": cedar_schema.entity_ref(entity_type, entity_id)}


@functools.lru_cache(maxsize=4096)
def _service(namespace: str, name: str) -> EntityDoc:
    return _entity("Service", f"{namespace}/{name}", {"namespace": namespace, "name": name})


@functools.lru_cache(maxsize=4096)
def _secret_path(provider: str, path: str) -> EntityDoc:
    return _entity("SecretPath", f"{provider}:{path}", {"provider": provider, "path": path})


@functools.lru_cache(maxsize=1024)
def _override(override: str) -> EntityDoc:
    category, _, value = override.partition(":")
    return _entity("SecurityOverride", override, {"category": category, "value": value})


@functools.lru_cache(maxsize=4096)
def _group(name: str) -> EntityDoc:
    return _entity("Group", name)


@functools.lru_cache(maxsize=4096)
def _user(name: str, groups: tuple[str, ...]) -> EntityDoc:
    return _entity("User", name, parents=[("Group", g) for g in groups])


@functools.lru_cache(maxsize=4096)
def _service_account(namespace: str, name: str, groups: tuple[str, ...]) -> EntityDoc:
    return _entity(
        "ServiceAccount",
        f"{namespace}/{name}",
        {"namespace": namespace, "name": name},
        [("Group", g) for g in groups],
    )


_WELL_KNOWN_LABELS = ("environment", "region", "tier")


@functools.lru_cache(maxsize=4096)
def _cluster(name: str, labels: tuple[tuple[str, str], ...]) -> EntityDoc:
    tags = dict(labels)
    attrs = {"name": name, **{k: tags.get(k, "") for k in _WELL_KNOWN_LABELS}}
    return _entity("Cluster", name, attrs, tags=tags)


@functools.lru_cache(maxsize=8192)
def _namespace(cluster: str, namespace: str, labels: tuple[tuple[str, str], ...]) -> EntityDoc:
    tags = dict(labels)
    attrs = {
        "name": namespace,
        "cluster": cluster,
        **{k: tags.get(k, "") for k in _WELL_KNOWN_LABELS},
    }
    return _entity("Namespace", f"{cluster}/{namespace}", attrs, [("Cluster", cluster)], tags)


# ---- request builders -----------------------------------------------------------------------


def secret_access(service_ns: str, service_name: str, provider: str, path: str) -> Request:
    """May service ``ns/name`` read secret ``path`` of secret provider ``provider``?"""
    resource = f"{provider}:{path}"
    return Request(
        principal=("Service", f"{service_ns}/{service_name}"),
        action="AccessSecret",
        resource=("SecretPath", resource),
        entities=(_service(service_ns, service_name), _secret_path(provider, path)),
        subject=f"service {service_ns}/{service_name}",
        wants=f"read secret '{resource}'",
    )


def security_override(service_ns: str, service_name: str, override: str) -> Request:
    """May service ``ns/name`` use ``override`` ("privileged", "capability:NET_ADMIN", ...)?"""
    return Request(
        principal=("Service", f"{service_ns}/{service_name}"),
        action="OverrideSecurity",
        resource=("SecurityOverride", override),
        entities=(_service(service_ns, service_name), _override(override)),
        subject=f"service {service_ns}/{service_name}",
        wants=f"use security override '{override}'",
    )


def volume_access(
    service_ns: str,
    service_name: str,
    volume_ns: str,
    volume_id: str,
    owner: str,
    allowed_consumers: Sequence[str] = (),
) -> Request:
    """May service ``ns/name`` mount shared volume ``volume_ns/volume_id``?

    ``owner`` and ``allowed_consumers`` are services as ``namespace/name``: the owner's
    consent is being listed in ``allowed_consumers`` (the built-in policies check it).
    """
    volume = f"{volume_ns}/{volume_id}"
    attrs = {
        "namespace": volume_ns,
        "owner": _ref("Service", owner),
        "allowedConsumers": [_ref("Service", c) for c in sorted(set(allowed_consumers))],
    }
    return Request(
        principal=("Service", f"{service_ns}/{service_name}"),
        action="AccessVolume",
        resource=("Volume", volume),
        entities=(_service(service_ns, service_name), _entity("Volume", volume, attrs)),
        subject=f"service {service_ns}/{service_name}",
        wants=f"use volume '{volume}' owned by {owner}",
    )


def cluster_access(
    user: str,
    groups: Sequence[str],
    cluster: str,
    labels: Mapping[str, str],
    verb: str,
    *,
    namespace: str = "",
    kind: str = "",
    context: ClusterContext | None = None,
) -> Request:
    """May ``user`` (in ``groups``) do ``verb`` on ``kind`` in ``namespace`` of ``cluster``?

    ``user`` ``system:serviceaccount:<ns>:<name>`` becomes a ``ServiceAccount`` principal,
    any other name a ``User``. With a namespace the resource is ``Namespace::"cluster/ns"``
    (inside the cluster), else ``Cluster::"cluster"``. ``verb`` is one of ``schema.VERBS``
    or ``AccessCluster``; anything else raises ``ValueError``.
    """
    if verb not in cedar_schema.VERBS and verb != cedar_schema.CLUSTER_ACTION:
        raise ValueError(f"unknown cluster verb {verb!r}; expected one of {cedar_schema.VERBS}")
    group_key = tuple(sorted(set(groups)))
    entities = [_group(g) for g in group_key]
    if user.startswith(SERVICE_ACCOUNT_PREFIX) and user.count(":") == 3:
        sa_ns, _, sa_name = user.removeprefix(SERVICE_ACCOUNT_PREFIX).partition(":")
        principal = ("ServiceAccount", f"{sa_ns}/{sa_name}")
        entities.append(_service_account(sa_ns, sa_name, group_key))
    else:
        principal = ("User", user)
        entities.append(_user(user, group_key))
    label_key = tuple(sorted(labels.items()))
    entities.append(_cluster(cluster, label_key))
    if namespace:
        resource = ("Namespace", f"{cluster}/{namespace}")
        entities.append(_namespace(cluster, namespace, label_key))
    else:
        resource = ("Cluster", cluster)
    what = kind or _resource_text(context) or "objects"
    where = f"{what} in {f'namespace {namespace} of ' if namespace else ''}"
    return Request(
        principal=principal,
        action=verb,
        resource=resource,
        context=_cluster_context(namespace, kind, context),
        entities=tuple(entities),
        subject=f"{principal[0].lower().replace('serviceaccount', 'service account')} {user}",
        wants=f"{verb} {where}cluster {cluster}",
    )


def _resource_text(context: ClusterContext | None) -> str:
    if context is None or not context.resource:
        return ""
    group = f"{context.api_group}/" if context.api_group else ""
    sub = f"/{context.subresource}" if context.subresource else ""
    return f"{group}{context.resource}{sub}"


def _cluster_context(namespace: str, kind: str, context: ClusterContext | None) -> dict[str, Any]:
    data: dict[str, Any] = {
        "namespace": namespace,
        "kind": kind,
        "apiGroup": context.api_group if context else "",
        "resource": context.resource if context else "",
        "subresource": context.subresource if context else "",
        "name": context.name if context else "",
    }
    if context and context.time is not None:
        data["time"] = {"__extn": {"fn": "datetime", "arg": format_datetime(context.time)}}
    if context and context.source_ip is not None:
        data["sourceIp"] = {"__extn": {"fn": "ip", "arg": context.source_ip}}
    return data


def format_datetime(value: datetime) -> str:
    """Cedar's datetime literal form: UTC, millisecond precision (naive means UTC)."""
    moment = value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"
