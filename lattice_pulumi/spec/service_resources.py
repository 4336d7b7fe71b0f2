"""Resource declarations of a LatticeService: what it depends on, who may call it.

``resources`` is a map of name to declaration; the declaration's ``type`` selects the typed
``params`` (a discriminated union). Types Lattice does not know are kept as ``CustomResource``
with free-form params, and the loader reports a warning for them.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import Discriminator, Field, Tag, model_validator

from lattice_pulumi.spec.base import DnsLabel, Duration, Quantity, SpecModel

__all__ = [
    "KNOWN_RESOURCE_TYPES",
    "CustomResource",
    "Direction",
    "ExternalServiceResource",
    "GpuParams",
    "GpuResource",
    "ResourceDecl",
    "SecretParams",
    "SecretResource",
    "ServiceParams",
    "ServiceResource",
    "VolumeParams",
    "VolumeResource",
]

Direction = Literal["outbound", "inbound", "both"]


class _Declared(SpecModel):
    """Fields every Score resource has."""

    class_: str | None = Field(default=None, alias="class")
    id: str | None = None
    metadata: dict[str, Any] = Field(default_factory=dict)


class ServiceParams(SpecModel):
    """Optional narrowing of a service dependency to some of the callee's port names."""

    ports: list[str] = Field(default_factory=list)


class ServiceResource(_Declared):
    """Another LatticeService: ``outbound`` = we call it, ``inbound`` = it may call us.

    ``id: "*"`` with ``direction: inbound`` accepts any caller.
    """

    type: Literal["service"]
    direction: Direction = "outbound"
    namespace: DnsLabel | None = None
    params: ServiceParams = Field(default_factory=ServiceParams)

    @model_validator(mode="after")
    def _wildcard_inbound_only(self) -> ServiceResource:
        if self.id == "*" and self.direction != "inbound":
            raise ValueError("id '*' (any caller) is only meaningful with direction: inbound")
        return self


class ExternalServiceResource(_Declared):
    """A LatticeExternalService this service calls (always outbound)."""

    type: Literal["external-service"]
    direction: Literal["outbound"] = "outbound"
    namespace: DnsLabel | None = None
    params: ServiceParams = Field(default_factory=ServiceParams)


class SecretParams(SpecModel):
    """An External Secrets Operator secret: the store, the keys, refresh and target type."""

    provider: DnsLabel
    keys: list[str] | None = None
    refresh_interval: Duration = "1h"
    secret_type: str | None = None

    @model_validator(mode="after")
    def _unique_keys(self) -> SecretParams:
        if self.keys is not None:
            if not self.keys:
                raise ValueError("keys is empty: list the keys, or leave keys out to take all")
            dupes = sorted({k for k in self.keys if self.keys.count(k) > 1})
            if dupes:
                raise ValueError(f"keys repeats {', '.join(dupes)}")
        return self


class SecretResource(_Declared):
    """A secret from an external store; ``id`` is its path in the store."""

    type: Literal["secret"]
    params: SecretParams

    @model_validator(mode="after")
    def _has_path(self) -> SecretResource:
        if not self.id:
            raise ValueError("a secret needs id: its path in the secret store")
        return self


class VolumeParams(SpecModel):
    """``size`` makes this service the owner of the volume; without it, a reference by ``id``."""

    size: Quantity | None = None
    storage_class: str | None = None
    access_mode: Literal["ReadWriteOnce", "ReadWriteMany", "ReadOnlyMany", "ReadWriteOncePod"] = (
        "ReadWriteOnce"
    )
    allowed_consumers: list[str] = Field(default_factory=list)


class VolumeResource(_Declared):
    """A volume: owned (``params.size``), shared by ``id``, or neither: a plain Score volume,
    which the platform provides as an ``emptyDir`` (as score-k8s's default provisioner does;
    its data lives as long as the pod)."""

    type: Literal["volume"]
    params: VolumeParams = Field(default_factory=VolumeParams)

    @model_validator(mode="after")
    def _owner_or_reference(self) -> VolumeResource:
        if self.params.size is None and self.params.allowed_consumers:
            raise ValueError("allowedConsumers needs params.size: only the owner grants access")
        return self

    @property
    def owned(self) -> bool:
        return self.params.size is not None

    @property
    def ephemeral(self) -> bool:
        """No size and no id: the pod's own emptyDir."""
        return self.params.size is None and not self.id


class GpuParams(SpecModel):
    """GPUs for the main container; memory/compute request a fraction through HAMi."""

    count: int = Field(default=1, ge=1, le=16)
    memory: Quantity | None = None
    compute: int | None = Field(default=None, ge=1, le=100)
    model: str | None = None
    tolerations: bool = True


class GpuResource(_Declared):
    type: Literal["gpu"]
    params: GpuParams = Field(default_factory=GpuParams)


class CustomResource(_Declared):
    """A resource type Lattice does not provision (kept for Score compatibility)."""

    type: str
    params: dict[str, Any] = Field(default_factory=dict)


KNOWN_RESOURCE_TYPES = ("service", "external-service", "secret", "volume", "gpu")


def _resource_tag(value: Any) -> str:
    kind = value.get("type") if isinstance(value, dict) else getattr(value, "type", None)
    return kind if kind in KNOWN_RESOURCE_TYPES else "custom"


ResourceDecl = Annotated[
    Annotated[ServiceResource, Tag("service")]
    | Annotated[ExternalServiceResource, Tag("external-service")]
    | Annotated[SecretResource, Tag("secret")]
    | Annotated[VolumeResource, Tag("volume")]
    | Annotated[GpuResource, Tag("gpu")]
    | Annotated[CustomResource, Tag("custom")],
    Discriminator(_resource_tag),
]
