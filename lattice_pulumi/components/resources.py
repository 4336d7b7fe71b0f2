"""One compiled manifest dict becomes one Pulumi resource.

Core kinds use the typed pulumi-kubernetes classes (so previews show typed diffs and the
provider applies its await logic); every other kind is an ``apiextensions.CustomResource``.
Top-level fields are passed as they are, camelCase below the top level included (the SDK
does not rename nested keys). ``logical_name`` is the Pulumi name of a child: the component
name, the namespace when it differs from the service's, and the object name.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

import pulumi
import pulumi_kubernetes as k8s

from lattice_pulumi.errors import CompileError

__all__ = ["TYPED_KINDS", "logical_name", "register_object", "type_token"]

_Factory = Callable[..., pulumi.CustomResource]

TYPED_KINDS: dict[tuple[str, str], _Factory] = {
    ("v1", "ConfigMap"): k8s.core.v1.ConfigMap,
    ("v1", "Namespace"): k8s.core.v1.Namespace,
    ("v1", "PersistentVolumeClaim"): k8s.core.v1.PersistentVolumeClaim,
    ("v1", "Secret"): k8s.core.v1.Secret,
    ("v1", "Service"): k8s.core.v1.Service,
    ("v1", "ServiceAccount"): k8s.core.v1.ServiceAccount,
    ("apps/v1", "Deployment"): k8s.apps.v1.Deployment,
    ("policy/v1", "PodDisruptionBudget"): k8s.policy.v1.PodDisruptionBudget,
    ("rbac.authorization.k8s.io/v1", "ClusterRole"): k8s.rbac.v1.ClusterRole,
    ("rbac.authorization.k8s.io/v1", "ClusterRoleBinding"): k8s.rbac.v1.ClusterRoleBinding,
    ("rbac.authorization.k8s.io/v1", "Role"): k8s.rbac.v1.Role,
    ("rbac.authorization.k8s.io/v1", "RoleBinding"): k8s.rbac.v1.RoleBinding,
    ("apiextensions.k8s.io/v1", "CustomResourceDefinition"): (
        k8s.apiextensions.v1.CustomResourceDefinition
    ),
}
"""Kinds registered with their typed class; the rest are CustomResources."""

_ENVELOPE = ("apiVersion", "kind", "metadata")
_CAMEL = re.compile(r"(?<!^)(?=[A-Z])")


def type_token(api_version: str, kind: str) -> str:
    """The Pulumi type token pulumi-kubernetes gives an object (``kubernetes:apps/v1:...``)."""
    group_version = api_version if "/" in api_version else f"core/{api_version}"
    return f"kubernetes:{group_version}:{kind}"


def logical_name(component: str, obj: dict[str, Any], namespace: str) -> str:
    meta = obj["metadata"]
    own = meta.get("namespace")
    middle = f"{own}-" if own and own != namespace else ""
    return f"{component}-{middle}{meta['name']}"


def register_object(
    name: str, obj: dict[str, Any], opts: pulumi.ResourceOptions
) -> pulumi.CustomResource:
    """Register ``obj`` (values may be Outputs) as a child resource named ``name``."""
    api_version, kind = obj["apiVersion"], obj["kind"]
    fields = {k: v for k, v in obj.items() if k not in _ENVELOPE}
    factory = TYPED_KINDS.get((api_version, kind))
    if factory is not None:
        args = {_CAMEL.sub("_", key).lower(): value for key, value in fields.items()}
        return factory(name, metadata=obj["metadata"], opts=opts, **args)
    extra = sorted(set(fields) - {"spec"})
    if extra:
        raise CompileError(
            f"{kind} {obj['metadata']['name']}: top-level fields {', '.join(extra)} are not "
            "supported for custom resources (only spec)"
        )
    return k8s.apiextensions.CustomResource(
        name,
        api_version=api_version,
        kind=kind,
        metadata=obj["metadata"],
        spec=fields.get("spec"),
        opts=opts,
    )
