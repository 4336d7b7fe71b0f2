"""Provider identities from a CloudProvider, and the install-time credentials Secret.

The compiler only ever *references* credentials:

* AWS: an ``AWSClusterStaticIdentity`` naming the CloudProvider's Secret (``secretRef`` is a
  bare name: CAPA reads it from the namespace its manager runs in, ``capa-system`` by
  default; CAPA ``pkg/cloud/scope/session.go``), or an ``AWSClusterRoleIdentity`` for
  ``aws.roleArn`` (its source is the static identity when keys are given too, else CAPA's
  controller identity ``default``, which must exist and allow ``capi-<cluster>``: CAPA checks
  ``allowedNamespaces`` of every identity in the chain). Identities are cluster-scoped, one
  per cluster (``lattice-<cluster>``), usable only from ``capi-<cluster>``
  (``allowedNamespaces.list``).
* OpenStack: an ``OpenStackClusterIdentity`` naming the CloudProvider's ``clouds.yaml``
  Secret where it lives (``identityRef.type: ClusterIdentity``), unless the cluster names
  its own Secret with ``openstack.identityRef`` (``type: Secret``, in ``capi-<cluster>``).
* Proxmox: ``credentialsRef`` straight to the CloudProvider's Secret.

``build_credentials_secret`` is the one place values are handled: at install time it builds
that Secret from environment variables, naming any that is missing.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from lattice_pulumi.compile import apiversions, labels
from lattice_pulumi.compile.cluster import objects
from lattice_pulumi.errors import CompileError
from lattice_pulumi.spec.cluster import LatticeCluster
from lattice_pulumi.spec.providers import CloudProvider

__all__ = [
    "CAPA_NAMESPACE",
    "IdentityPlan",
    "build_credentials_secret",
    "build_identity",
    "credentials_location",
]

CAPA_NAMESPACE = "capa-system"


@dataclass(frozen=True)
class IdentityPlan:
    """Identity objects to create and the reference the infrastructure cluster carries."""

    objects: tuple[dict[str, Any], ...] = ()
    ref: dict[str, Any] = field(default_factory=dict)


def credentials_location(cloud: CloudProvider) -> tuple[str, str] | None:
    """``(name, namespace)`` of the credentials Secret the provider's controller reads."""
    credentials = cloud.spec.credentials
    if credentials is None:
        return None
    ref = credentials.secret_ref
    if cloud.spec.type == "aws":
        return ref.name, CAPA_NAMESPACE
    return ref.name, ref.namespace or cloud.namespace


def _identity_name(cluster: LatticeCluster) -> str:
    return f"lattice-{cluster.name}"


def _allowed(cluster: LatticeCluster) -> dict[str, Any]:
    return {"list": [objects.capi_namespace(cluster)]}


def build_identity(cluster: LatticeCluster, cloud: CloudProvider) -> IdentityPlan:
    """The identity objects and reference for ``cluster`` built with ``cloud``."""
    kind = cloud.spec.type
    if kind == "aws":
        return _aws_identity(cluster, cloud)
    if kind == "openstack":
        return _openstack_identity(cluster, cloud)
    if kind == "proxmox":
        name, namespace = credentials_location(cloud) or ("", "")
        return IdentityPlan(ref={"name": name, "namespace": namespace})
    return IdentityPlan()


def _aws_identity(cluster: LatticeCluster, cloud: CloudProvider) -> IdentityPlan:
    location = credentials_location(cloud)
    role = cloud.spec.aws.role_arn if cloud.spec.aws else None
    made: list[dict[str, Any]] = []
    static_name = _identity_name(cluster) + ("-static" if role else "")
    if location is not None:
        static = objects.new_object("AWSClusterStaticIdentity", static_name, cluster)
        static["spec"] = {"secretRef": location[0], "allowedNamespaces": _allowed(cluster)}
        made.append(static)
    if role is None:
        return IdentityPlan(tuple(made), {"kind": "AWSClusterStaticIdentity", "name": static_name})
    source = (
        {"kind": "AWSClusterStaticIdentity", "name": static_name}
        if location is not None
        else {"kind": "AWSClusterControllerIdentity", "name": "default"}
    )
    assumed = objects.new_object("AWSClusterRoleIdentity", _identity_name(cluster), cluster)
    assumed["spec"] = {
        "roleARN": role,
        "sessionName": _identity_name(cluster),
        "sourceIdentityRef": source,
        "allowedNamespaces": _allowed(cluster),
    }
    if cloud.spec.aws and cloud.spec.aws.external_id:
        assumed["spec"]["externalID"] = cloud.spec.aws.external_id
    made.append(assumed)
    return IdentityPlan(
        tuple(made), {"kind": "AWSClusterRoleIdentity", "name": _identity_name(cluster)}
    )


def _openstack_identity(cluster: LatticeCluster, cloud: CloudProvider) -> IdentityPlan:
    config = cluster.spec.provider.config.openstack
    cloud_name = config.cloud_name if config else "openstack"
    ref: dict[str, Any] = {"cloudName": cloud_name}
    if cloud.spec.region:
        ref["region"] = cloud.spec.region
    if config is not None and config.identity_ref:
        return IdentityPlan(ref={"type": "Secret", "name": config.identity_ref, **ref})
    name, namespace = credentials_location(cloud) or ("", "")
    identity = objects.new_object("OpenStackClusterIdentity", _identity_name(cluster), cluster)
    identity["spec"] = {
        "secretRef": {"name": name, "namespace": namespace},
        "namespaceSelector": {
            "matchLabels": {"kubernetes.io/metadata.name": objects.capi_namespace(cluster)}
        },
    }
    return IdentityPlan(
        (identity,), {"type": "ClusterIdentity", "name": _identity_name(cluster), **ref}
    )


# ------------------------------------------------------------------------ install-time Secret


def _require(environ: Mapping[str, str], name: str, cloud: CloudProvider, why: str) -> str:
    value = environ.get(name, "")
    if not value:
        raise CompileError(
            f"environment variable {name} is not set: {why}",
            subject=f"cloudprovider {cloud.namespace}/{cloud.name}",
        )
    return value


def build_credentials_secret(cloud: CloudProvider, environ: Mapping[str, str]) -> dict[str, Any]:
    """The credentials Secret of ``cloud``, values from ``environ`` (install time only).

    AWS: ``AWS_ACCESS_KEY_ID``, ``AWS_SECRET_ACCESS_KEY`` (``AWS_SESSION_TOKEN`` optional).
    OpenStack: a ``clouds.yaml`` built from ``OS_AUTH_URL`` plus an application credential
    (``OS_APPLICATION_CREDENTIAL_ID``/``_SECRET``) or a password login (``OS_USERNAME``,
    ``OS_PASSWORD``, ``OS_PROJECT_ID`` or ``OS_PROJECT_NAME``). Proxmox: ``PROXMOX_TOKEN``,
    ``PROXMOX_SECRET`` and the URL (``PROXMOX_URL`` or the CloudProvider's ``url``).
    """
    subject = f"cloudprovider {cloud.namespace}/{cloud.name}"
    location = credentials_location(cloud)
    if location is None:
        raise CompileError(
            f"type {cloud.spec.type} uses no credentials Secret",
            subject=subject,
            path=("spec", "credentials"),
        )
    builders = {"aws": _aws_data, "openstack": _openstack_data, "proxmox": _proxmox_data}
    data = builders[cloud.spec.type](cloud, environ)
    secret = apiversions.header("Secret", location[0], location[1])
    secret["metadata"]["labels"] = {labels.MANAGED_BY: "lattice"}
    secret["type"] = "Opaque"
    secret["stringData"] = data
    return secret


def _aws_data(cloud: CloudProvider, environ: Mapping[str, str]) -> dict[str, str]:
    why = "the CloudProvider uses static AWS keys"
    data = {
        "AccessKeyID": _require(environ, "AWS_ACCESS_KEY_ID", cloud, why),
        "SecretAccessKey": _require(environ, "AWS_SECRET_ACCESS_KEY", cloud, why),
    }
    if environ.get("AWS_SESSION_TOKEN"):
        data["SessionToken"] = environ["AWS_SESSION_TOKEN"]
    return data


def _openstack_data(cloud: CloudProvider, environ: Mapping[str, str]) -> dict[str, str]:
    auth: dict[str, str] = {"auth_url": _require(environ, "OS_AUTH_URL", cloud, "Keystone URL")}
    entry: dict[str, Any] = {"auth": auth}
    if environ.get("OS_APPLICATION_CREDENTIAL_ID"):
        why = "an application credential needs its secret"
        auth["application_credential_id"] = environ["OS_APPLICATION_CREDENTIAL_ID"]
        auth["application_credential_secret"] = _require(
            environ, "OS_APPLICATION_CREDENTIAL_SECRET", cloud, why
        )
        entry["auth_type"] = "v3applicationcredential"
    else:
        why = "set OS_USERNAME and OS_PASSWORD, or OS_APPLICATION_CREDENTIAL_ID and _SECRET"
        auth["username"] = _require(environ, "OS_USERNAME", cloud, why)
        auth["password"] = _require(environ, "OS_PASSWORD", cloud, why)
        project = "OS_PROJECT_ID" if environ.get("OS_PROJECT_ID") else "OS_PROJECT_NAME"
        auth[project.removeprefix("OS_").lower()] = _require(
            environ, project, cloud, "a password login needs OS_PROJECT_ID or OS_PROJECT_NAME"
        )
        for variable in ("OS_USER_DOMAIN_NAME", "OS_PROJECT_DOMAIN_NAME"):
            if environ.get(variable):
                auth[variable.removeprefix("OS_").lower()] = environ[variable]
    region = environ.get("OS_REGION_NAME") or cloud.spec.region
    if region:
        entry["region_name"] = region
    entry["interface"] = environ.get("OS_INTERFACE", "public")
    entry["identity_api_version"] = 3
    name = cloud.spec.openstack.cloud_name if cloud.spec.openstack else "openstack"
    # JSON is YAML: a deterministic clouds.yaml without a YAML library in the compiler.
    return {"clouds.yaml": json.dumps({"clouds": {name: entry}}, indent=2, sort_keys=True)}


def _proxmox_data(cloud: CloudProvider, environ: Mapping[str, str]) -> dict[str, str]:
    declared = cloud.spec.proxmox.url if cloud.spec.proxmox else ""
    url = environ.get("PROXMOX_URL") or declared
    if declared and url != declared:
        raise CompileError(
            f"PROXMOX_URL {url} differs from the CloudProvider's spec.proxmox.url {declared}",
            subject=f"cloudprovider {cloud.namespace}/{cloud.name}",
        )
    why = "the Proxmox API token id and secret are required"
    return {
        "url": url,
        "token": _require(environ, "PROXMOX_TOKEN", cloud, why),
        "secret": _require(environ, "PROXMOX_SECRET", cloud, why),
    }
