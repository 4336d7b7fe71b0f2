"""Requests written by hand: uids in Cedar syntax, entities synthesised from their ids.

Used by ``lattice policy check`` (and handy in tests): ``Lattice::Service::"media/app"``
becomes a Service entity with namespace and name taken from its id, a ``SecretPath`` gets
provider and path, a ``SecurityOverride`` its category and value, a ``Namespace`` its
cluster as parent, and so on. Entities given explicitly (Cedar JSON) replace synthesised
ones with the same uid, e.g. a Volume with its owner and allowedConsumers.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from typing import Any

from lattice_pulumi.policy import requests
from lattice_pulumi.policy import schema as cedar_schema
from lattice_pulumi.policy.requests import EntityDoc, Request

__all__ = ["build_request", "parse_uid"]

_UID = re.compile(r'^(?:Lattice::)?(?P<type>[A-Za-z_][A-Za-z0-9_]*)::(?P<id>".*")$', re.DOTALL)


def parse_uid(text: str, *, default_type: str | None = None) -> tuple[str, str]:
    """``Lattice::Type::"id"`` (namespace optional) as ``(type, id)``.

    With ``default_type`` a bare name is accepted too (``AccessSecret`` for an action).
    Raises ``ValueError`` saying what was expected.
    """
    match = _UID.match(text.strip())
    if match:
        try:
            entity_id = json.loads(match["id"])
        except json.JSONDecodeError as exc:
            raise ValueError(f"bad entity id in {text!r}: {exc.msg}") from exc
        return match["type"], str(entity_id)
    if default_type and re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", text.strip()):
        return default_type, text.strip()
    raise ValueError(f'expected an entity uid like Lattice::Service::"ns/name", got {text!r}')


def build_request(
    principal: str,
    action: str,
    resource: str,
    *,
    context: Mapping[str, Any] | None = None,
    groups: Sequence[str] = (),
    labels: Mapping[str, str] | None = None,
    entities: Sequence[Mapping[str, Any]] = (),
) -> Request:
    """A request from uids in Cedar syntax; see the module docstring for the entities.

    ``groups`` become parents of a User or ServiceAccount principal, ``labels`` the labels of
    a Cluster or Namespace resource. For cluster actions the context gets ``namespace`` and
    ``kind`` (empty unless given, ``namespace`` from a Namespace id).
    """
    principal_uid = parse_uid(principal)
    action_type, action_id = parse_uid(action, default_type="Action")
    if action_type != "Action":
        raise ValueError(f'expected an action like Lattice::Action::"get", got {action!r}')
    resource_uid = parse_uid(resource)
    synthesised = {
        doc.uid: doc
        for doc in [
            *_synthesise(principal_uid, groups, labels or {}),
            *_synthesise(resource_uid, groups, labels or {}),
        ]
    }
    for entity in entities:
        uid = entity.get("uid") or {}
        kind = str(uid.get("type", "")).removeprefix(f"{cedar_schema.NAMESPACE}::")
        key = cedar_schema.uid_text(kind, str(uid.get("id", "")))
        synthesised[key] = EntityDoc(key, json.dumps(entity, sort_keys=True))
    data = dict(context or {})
    if action_id == cedar_schema.CLUSTER_ACTION or action_id in cedar_schema.VERBS:
        namespace = resource_uid[1].partition("/")[2] if resource_uid[0] == "Namespace" else ""
        data.setdefault("namespace", namespace)
        for key in ("kind", "apiGroup", "resource", "subresource", "name"):
            data.setdefault(key, "")
    return Request(
        principal=principal_uid,
        action=action_id,
        resource=resource_uid,
        context=data,
        entities=tuple(synthesised.values()),
        subject=cedar_schema.uid_text(*principal_uid),
        wants=f"{action_id} {cedar_schema.uid_text(*resource_uid)}",
    )


def _synthesise(
    uid: tuple[str, str], groups: Sequence[str], labels: Mapping[str, str]
) -> list[EntityDoc]:
    """The entity documents the request builders would make for ``uid``."""
    kind, entity_id = uid
    before, _, after = entity_id.partition("/")
    built: Request
    wanted: tuple[str, ...] = (kind,)
    if kind == "Service":
        built = requests.security_override(before, after, "-")
    elif kind == "SecretPath":
        provider, _, path = entity_id.partition(":")
        built = requests.secret_access("-", "-", provider, path)
    elif kind == "SecurityOverride":
        built = requests.security_override("-", "-", entity_id)
    elif kind == "Volume":
        built = requests.volume_access("-", "-", before, after, "")
    elif kind == "User":
        built, wanted = (
            requests.cluster_access(entity_id, groups, "-", {}, "get"),
            ("User", "Group"),
        )
    elif kind == "ServiceAccount":
        user = f"{requests.SERVICE_ACCOUNT_PREFIX}{before}:{after}"
        built, wanted = requests.cluster_access(user, groups, "-", {}, "get"), (kind, "Group")
    elif kind == "Cluster":
        built = requests.cluster_access("-", (), entity_id, labels, "get")
    elif kind == "Namespace":
        built = requests.cluster_access("-", (), before, labels, "get", namespace=after)
        wanted = ("Namespace", "Cluster")
    else:
        text = json.dumps(_bare(kind, entity_id))
        return [EntityDoc(cedar_schema.uid_text(kind, entity_id), text)]
    prefixes = tuple(f"{cedar_schema.NAMESPACE}::{t}::" for t in wanted)
    return [doc for doc in built.entities if doc.uid.startswith(prefixes)]


def _bare(kind: str, entity_id: str) -> dict[str, Any]:
    return {"uid": cedar_schema.entity_ref(kind, entity_id), "attrs": {}, "parents": []}
