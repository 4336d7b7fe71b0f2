"""Secrets of a service as External Secrets Operator objects; values never pass through.

Each ``type: secret`` resource becomes an ``ExternalSecret`` whose target Secret is named
``<service>-<resource>`` (keys => ``data`` entries, no keys => ``dataFrom`` extract). Text
that mixes literals with secret keys (a ``DATABASE_URL``, a config file) becomes an
ExternalSecret *template*, so the finished value only ever exists inside the cluster.
Keys of a provisioned resource's generated Secret are read through its own SecretStore.
Every secret path is authorized first (Cedar ``AccessSecret``).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from lattice_pulumi.compile import labels
from lattice_pulumi.compile.apiversions import header
from lattice_pulumi.compile.context import CompileContext
from lattice_pulumi.compile.service.templates import Rendered, SecretKey
from lattice_pulumi.errors import PolicyDenied
from lattice_pulumi.policy import denial_message
from lattice_pulumi.policy.requests import secret_access
from lattice_pulumi.spec.service import LatticeService
from lattice_pulumi.spec.service_resources import SecretResource

__all__ = [
    "authorize_secrets",
    "build_external_secrets",
    "build_templated_secret",
    "secret_name",
    "secret_resources",
]

_STORE_KIND = "ClusterSecretStore"
_PROVISIONED_REFRESH = "1h"  # provisioned Secrets are created once; re-read them hourly


def secret_name(service: LatticeService, resource: str) -> str:
    """The Kubernetes Secret that holds a secret resource's keys."""
    return f"{service.name}-{resource}"


def secret_resources(service: LatticeService) -> dict[str, SecretResource]:
    return {
        name: decl
        for name, decl in service.spec.workload.resources.items()
        if isinstance(decl, SecretResource)
    }


def authorize_secrets(service: LatticeService, context: CompileContext) -> None:
    """Every secret path must be permitted; one error lists every denied path."""
    denied = []
    for decl in secret_resources(service).values():
        request = secret_access(
            service.namespace, service.name, decl.params.provider, decl.id or ""
        )
        decision = context.authorizer.authorize(request)
        if not decision.allowed:
            denied.append(denial_message(request, decision.reason))
    if denied:
        raise PolicyDenied("\n".join(denied))


def _store(provider: str) -> dict[str, str]:
    return {"name": provider, "kind": _STORE_KIND}


def _key_store(key: SecretKey, resources: Mapping[str, SecretResource]) -> dict[str, str]:
    """The store a key is read from: its secret provider, or a provisioned resource's reader."""
    if key.store is not None:
        return {"name": key.store, "kind": "SecretStore"}
    return _store(resources[key.resource].params.provider)


def build_external_secrets(service: LatticeService) -> list[dict[str, Any]]:
    """One ExternalSecret per secret resource, in resource order."""
    out = []
    for name, decl in secret_resources(service).items():
        params = decl.params
        obj = header("ExternalSecret", secret_name(service, name), service.namespace)
        obj["metadata"]["labels"] = labels.service_labels(service.name)
        target: dict[str, Any] = {
            "name": secret_name(service, name),
            "creationPolicy": "Owner",
            "deletionPolicy": "Retain",
        }
        if params.secret_type:
            target["template"] = {"type": params.secret_type, "engineVersion": "v2"}
        spec: dict[str, Any] = {
            "refreshInterval": params.refresh_interval,
            "secretStoreRef": _store(params.provider),
            "target": target,
        }
        if params.keys is None:
            spec["dataFrom"] = [{"extract": {"key": decl.id}}]
        else:
            spec["data"] = [
                {"secretKey": key, "remoteRef": {"key": decl.id, "property": key}}
                for key in params.keys
            ]
        obj["spec"] = spec
        out.append(obj)
    return out


def build_templated_secret(
    service: LatticeService, name: str, entries: Mapping[str, Rendered]
) -> dict[str, Any]:
    """An ExternalSecret rendering ``entries`` (Secret key => text with secret keys)."""
    resources = secret_resources(service)
    used: dict[str, SecretKey] = {}
    for rendered in entries.values():
        for key in rendered.secrets:
            used.setdefault(key.template_name, key)
    stores = {template_name: _key_store(key, resources) for template_name, key in used.items()}
    main_store = min(stores.values(), key=lambda s: (s["kind"], s["name"]))
    data = []
    for template_name, key in sorted(used.items()):
        remote = key.secret if key.secret is not None else resources[key.resource].id
        entry: dict[str, Any] = {
            "secretKey": template_name,
            "remoteRef": {"key": remote, "property": key.key},
        }
        if stores[template_name] != main_store:
            entry["sourceRef"] = {"storeRef": stores[template_name]}
        data.append(entry)
    intervals = [
        resources[k.resource].params.refresh_interval for k in used.values() if k.store is None
    ]
    refresh = min(intervals or [_PROVISIONED_REFRESH], key=_seconds)
    obj = header("ExternalSecret", name, service.namespace)
    obj["metadata"]["labels"] = labels.service_labels(service.name)
    obj["spec"] = {
        "refreshInterval": refresh,
        "secretStoreRef": main_store,
        "target": {
            "name": name,
            "creationPolicy": "Owner",
            "deletionPolicy": "Retain",
            "template": {
                "engineVersion": "v2",
                "data": {key: entries[key].eso_template() for key in sorted(entries)},
            },
        },
        "data": data,
    }
    return obj


_UNITS = {"ns": 1e-9, "us": 1e-6, "µs": 1e-6, "ms": 1e-3, "s": 1, "m": 60, "h": 3600}


def _seconds(duration: str) -> float:
    """Seconds in a Go duration such as ``1h30m`` (already validated by the spec)."""
    total, number = 0.0, ""
    i = 0
    while i < len(duration):
        char = duration[i]
        if char.isdigit() or char == ".":
            number += char
            i += 1
            continue
        unit = duration[i : i + 2] if duration[i : i + 2] in _UNITS else char
        total += float(number) * _UNITS[unit]
        number = ""
        i += len(unit)
    return total
