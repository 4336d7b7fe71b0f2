"""The CloudProvider and SecretProvider kinds: where clusters and secrets come from.

A CloudProvider (in ``lattice-system`` by convention) names an infrastructure account and
the Secret holding its credentials, never the credentials themselves; LatticeClusters point
at it with ``spec.providerRef``. A SecretProvider is one External Secrets Operator provider
that LatticeServices draw secrets from; its blocks live in ``spec.secret_providers``.
"""

from __future__ import annotations

import re
from typing import Annotated, ClassVar, Literal

from pydantic import AfterValidator, Field, model_validator

from lattice_pulumi.spec.base import DnsLabel, DnsSubdomain, SpecModel, require_exactly_one
from lattice_pulumi.spec.cluster_providers import ProviderType
from lattice_pulumi.spec.meta import Resource, Status
from lattice_pulumi.spec.secret_providers import (
    AwsSecretsProvider,
    GcpSecretsProvider,
    HttpUrl,
    KubernetesSecretsProvider,
    RoleArn,
    VaultProvider,
)

__all__ = [
    "AwsProviderOptions",
    "CloudProvider",
    "CloudProviderSpec",
    "CloudProviderStatus",
    "Credentials",
    "OpenStackProviderOptions",
    "ProviderPhase",
    "ProxmoxProviderOptions",
    "SecretProvider",
    "SecretProviderSpec",
    "SecretProviderStatus",
    "SecretRef",
]

ProviderPhase = Literal["Pending", "Ready", "Failed"]
_REGION = re.compile(r"[A-Za-z0-9][-A-Za-z0-9_.]*")


def _check_region(value: str) -> str:
    if len(value) > 63 or not _REGION.fullmatch(value):
        raise ValueError(
            f"'{value}' is not a region name: expected letters, digits, '-', '_' "
            "or '.' such as us-west-2 or RegionOne"
        )
    return value


class SecretRef(SpecModel):
    """A whole Kubernetes Secret; ``namespace`` defaults to the referring object's."""

    name: DnsSubdomain
    namespace: DnsLabel | None = None


class Credentials(SpecModel):
    """Where the credentials are. Keys by type: aws ``AccessKeyID``/``SecretAccessKey``
    (optional ``SessionToken``), openstack ``clouds.yaml`` (optional ``cacert``), proxmox
    ``token``/``secret``."""

    secret_ref: SecretRef


class AwsProviderOptions(SpecModel):
    """AWS identity: static keys from ``credentials``, or the role ``roleArn`` names."""

    role_arn: RoleArn | None = None
    external_id: str | None = None

    @model_validator(mode="after")
    def _external_id_needs_role(self) -> AwsProviderOptions:
        if self.external_id and not self.role_arn:
            raise ValueError("externalId applies to an assumed role: set roleArn as well")
        return self


class OpenStackProviderOptions(SpecModel):
    """Which entry of the ``clouds.yaml`` in ``credentials`` to use."""

    cloud_name: str = Field(default="openstack", min_length=1)


class ProxmoxProviderOptions(SpecModel):
    """Proxmox VE API endpoint; the API token is in ``credentials``."""

    url: HttpUrl
    insecure_skip_tls_verify: bool = False


_TYPE_BLOCKS: tuple[ProviderType, ...] = ("aws", "openstack", "proxmox")


class CloudProviderSpec(SpecModel):
    """One infrastructure account clusters can be built in."""

    type: ProviderType
    region: Annotated[str, AfterValidator(_check_region)] | None = None
    """Default region (aws, openstack)."""
    credentials: Credentials | None = None
    aws: AwsProviderOptions | None = None
    openstack: OpenStackProviderOptions | None = None
    proxmox: ProxmoxProviderOptions | None = None

    @model_validator(mode="after")
    def _fits_type(self) -> CloudProviderSpec:
        for block in _TYPE_BLOCKS:
            if block != self.type and getattr(self, block) is not None:
                raise ValueError(
                    f"{block} is set but type is {self.type}: remove {block} or set type: {block}"
                )
        if self.type == "proxmox" and self.proxmox is None:
            raise ValueError("type proxmox needs a proxmox block with the API url")
        if self.region and self.type in ("proxmox", "docker"):
            raise ValueError(f"region is not used by the {self.type} provider")
        role = self.aws.role_arn if self.aws else None
        if self.type == "docker" and self.credentials is not None:
            raise ValueError("the docker provider needs no credentials: remove credentials")
        if self.type in ("openstack", "proxmox") and self.credentials is None:
            raise ValueError(f"type {self.type} needs credentials.secretRef")
        if self.type == "aws" and self.credentials is None and role is None:
            raise ValueError(
                "type aws needs credentials.secretRef (static keys) or aws.roleArn (assumed role)"
            )
        return self


class CloudProviderStatus(Status):
    """Whether the credentials were found and work."""

    phase: ProviderPhase | None = None


class CloudProvider(Resource):
    """A namespaced CloudProvider document."""

    plural: ClassVar[str] = "cloudproviders"
    short_names: ClassVar[tuple[str, ...]] = ("cprov",)
    printer_columns: ClassVar[tuple[tuple[str, str, str], ...]] = (
        ("Type", "string", ".spec.type"),
        ("Region", "string", ".spec.region"),
        ("Phase", "string", ".status.phase"),
        ("Age", "date", ".metadata.creationTimestamp"),
    )

    kind: Literal["CloudProvider"]
    spec: CloudProviderSpec
    status: CloudProviderStatus | None = None


class SecretProviderSpec(SpecModel):
    """Exactly one External Secrets Operator provider."""

    vault: VaultProvider | None = None
    aws: AwsSecretsProvider | None = None
    kubernetes: KubernetesSecretsProvider | None = None
    gcpsm: GcpSecretsProvider | None = None

    @model_validator(mode="after")
    def _one_provider(self) -> SecretProviderSpec:
        require_exactly_one(self, "vault", "aws", "kubernetes", "gcpsm")
        return self


class SecretProviderStatus(Status):
    """Whether the generated SecretStore is ready."""

    phase: ProviderPhase | None = None


class SecretProvider(Resource):
    """A namespaced SecretProvider document."""

    plural: ClassVar[str] = "secretproviders"
    short_names: ClassVar[tuple[str, ...]] = ("secprov",)
    printer_columns: ClassVar[tuple[tuple[str, str, str], ...]] = (
        ("Phase", "string", ".status.phase"),
        ("Age", "date", ".metadata.creationTimestamp"),
    )

    kind: Literal["SecretProvider"]
    spec: SecretProviderSpec
    status: SecretProviderStatus | None = None
