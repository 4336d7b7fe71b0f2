"""External Secrets Operator provider blocks a SecretProvider may hold: Vault, AWS, Kubernetes, GCP.

Field names follow ESO's ``SecretStore.spec.provider`` (external-secrets.io/v1) so the
compiler copies them nearly verbatim; only the common subset of each provider is modelled.
Secret material is never inline: every credential is a ``SecretKeyRef``.
"""

from __future__ import annotations

import re
from typing import Annotated, Literal

from pydantic import AfterValidator, Field, model_validator

from lattice_pulumi.spec.base import DnsLabel, DnsSubdomain, SpecModel, require_exactly_one
from lattice_pulumi.spec.cluster_providers import AwsRegion

__all__ = [
    "AwsJwtAuth",
    "AwsSecretsAuth",
    "AwsSecretsProvider",
    "AwsStaticAuth",
    "GcpSecretsAuth",
    "GcpSecretsProvider",
    "GcpStaticAuth",
    "GcpWorkloadIdentity",
    "HttpUrl",
    "KubernetesCertAuth",
    "KubernetesSecretsAuth",
    "KubernetesSecretsProvider",
    "KubernetesServer",
    "KubernetesTokenAuth",
    "RoleArn",
    "SecretKeyRef",
    "ServiceAccountRef",
    "VaultAppRoleAuth",
    "VaultAuth",
    "VaultKubernetesAuth",
    "VaultProvider",
]

_URL = re.compile(r"https?://[^\s/$.?#][^\s]*")
_ROLE_ARN = re.compile(r"arn:aws[a-z-]*:iam::\d{12}:role/[\w+=,.@/-]+")
_SECRET_KEY = re.compile(r"[-._a-zA-Z0-9]+")


def _check_url(value: str) -> str:
    if not _URL.fullmatch(value):
        raise ValueError(f"'{value}' is not an http(s) URL: expected https://host[:port]")
    return value


def _check_role_arn(value: str) -> str:
    if not _ROLE_ARN.fullmatch(value):
        raise ValueError(
            f"'{value}' is not an IAM role ARN: expected arn:aws:iam::123456789012:role/name"
        )
    return value


def _check_secret_key(value: str) -> str:
    if len(value) > 253 or not _SECRET_KEY.fullmatch(value):
        raise ValueError(
            f"'{value}' is not a Secret key: expected letters, digits, '-', '_' or '.'"
        )
    return value


HttpUrl = Annotated[str, AfterValidator(_check_url)]
RoleArn = Annotated[str, AfterValidator(_check_role_arn)]
SecretKey = Annotated[str, AfterValidator(_check_secret_key)]


class SecretKeyRef(SpecModel):
    """One key of a Kubernetes Secret (ESO ``SecretKeySelector``)."""

    name: DnsSubdomain
    key: SecretKey
    namespace: DnsLabel | None = None


class ServiceAccountRef(SpecModel):
    """A ServiceAccount whose token authenticates to the backend."""

    name: DnsSubdomain
    namespace: DnsLabel | None = None
    audiences: list[str] = Field(default_factory=list)


# -------------------------------------------------------------------------------------- Vault


class VaultKubernetesAuth(SpecModel):
    """Vault's Kubernetes auth method."""

    role: str = Field(min_length=1)
    mount_path: str = Field(default="kubernetes", min_length=1)
    service_account_ref: ServiceAccountRef | None = None


class VaultAppRoleAuth(SpecModel):
    """Vault's AppRole auth method."""

    path: str = Field(default="approle", min_length=1)
    role_id: str = Field(min_length=1)
    secret_ref: SecretKeyRef


class VaultAuth(SpecModel):
    """Exactly one Vault auth method."""

    kubernetes: VaultKubernetesAuth | None = None
    token_secret_ref: SecretKeyRef | None = None
    app_role: VaultAppRoleAuth | None = None

    @model_validator(mode="after")
    def _one_method(self) -> VaultAuth:
        require_exactly_one(self, "kubernetes", "token_secret_ref", "app_role")
        return self


class VaultProvider(SpecModel):
    """HashiCorp Vault KV secrets engine."""

    server: HttpUrl
    path: str | None = None
    """Mount path of the KV engine (``secret``)."""
    version: Literal["v1", "v2"] = "v2"
    namespace: str | None = None
    """Vault Enterprise namespace."""
    ca_bundle: str | None = None
    auth: VaultAuth


# ---------------------------------------------------------------------------------------- AWS


class AwsStaticAuth(SpecModel):
    """Access keys stored in Secrets."""

    access_key_id_secret_ref: SecretKeyRef = Field(alias="accessKeyIDSecretRef")
    secret_access_key_secret_ref: SecretKeyRef
    session_token_secret_ref: SecretKeyRef | None = None


class AwsJwtAuth(SpecModel):
    """IRSA / pod identity through a ServiceAccount token."""

    service_account_ref: ServiceAccountRef


class AwsSecretsAuth(SpecModel):
    """Exactly one AWS auth method; omit ``auth`` to use the controller's own identity."""

    secret_ref: AwsStaticAuth | None = None
    jwt: AwsJwtAuth | None = None

    @model_validator(mode="after")
    def _one_method(self) -> AwsSecretsAuth:
        require_exactly_one(self, "secret_ref", "jwt")
        return self


class AwsSecretsProvider(SpecModel):
    """AWS Secrets Manager or SSM Parameter Store."""

    service: Literal["SecretsManager", "ParameterStore"]
    region: AwsRegion
    role: RoleArn | None = None
    """Role to assume after authenticating."""
    auth: AwsSecretsAuth | None = None


# --------------------------------------------------------------------------------- Kubernetes


class KubernetesServer(SpecModel):
    """API server of the cluster holding the secrets; omit for the local cluster."""

    url: HttpUrl | None = None
    ca_bundle: str | None = None


class KubernetesTokenAuth(SpecModel):
    """A bearer token stored in a Secret."""

    bearer_token: SecretKeyRef


class KubernetesCertAuth(SpecModel):
    """A client certificate and key stored in Secrets."""

    client_cert: SecretKeyRef
    client_key: SecretKeyRef


class KubernetesSecretsAuth(SpecModel):
    """Exactly one way to authenticate to the Kubernetes API."""

    service_account: ServiceAccountRef | None = None
    token: KubernetesTokenAuth | None = None
    cert: KubernetesCertAuth | None = None

    @model_validator(mode="after")
    def _one_method(self) -> KubernetesSecretsAuth:
        require_exactly_one(self, "service_account", "token", "cert")
        return self


class KubernetesSecretsProvider(SpecModel):
    """Secrets of another namespace or another cluster."""

    remote_namespace: DnsLabel = "default"
    server: KubernetesServer | None = None
    auth: KubernetesSecretsAuth


# ---------------------------------------------------------------------------------------- GCP


class GcpWorkloadIdentity(SpecModel):
    """GKE Workload Identity."""

    cluster_location: str = Field(min_length=1)
    cluster_name: str = Field(min_length=1)
    cluster_project_id: str | None = Field(default=None, alias="clusterProjectID")
    service_account_ref: ServiceAccountRef


class GcpStaticAuth(SpecModel):
    """A service account key stored in a Secret."""

    secret_access_key_secret_ref: SecretKeyRef


class GcpSecretsAuth(SpecModel):
    """Exactly one GCP auth method; omit ``auth`` to use the node's default credentials."""

    workload_identity: GcpWorkloadIdentity | None = None
    secret_ref: GcpStaticAuth | None = None

    @model_validator(mode="after")
    def _one_method(self) -> GcpSecretsAuth:
        require_exactly_one(self, "workload_identity", "secret_ref")
        return self


class GcpSecretsProvider(SpecModel):
    """Google Cloud Secret Manager."""

    project_id: str = Field(alias="projectID", pattern=r"^[a-z][-a-z0-9]{4,28}[a-z0-9]$")
    location: str | None = None
    auth: GcpSecretsAuth | None = None
