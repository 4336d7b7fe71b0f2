"""Container-level models of a LatticeService: the Score container plus Lattice extensions.

Used by ``spec.service`` (containers and sidecars) and by the service compiler.
"""

from __future__ import annotations

import base64
import binascii
import re
from typing import Annotated, Literal

from pydantic import Field, WithJsonSchema, field_validator, model_validator

from lattice_pulumi.spec.base import FileMode, ImageRef, Quantity, SpecModel

__all__ = [
    "Container",
    "ContainerResources",
    "ExecAction",
    "FileSpec",
    "GrpcAction",
    "HttpGetAction",
    "HttpHeader",
    "Probe",
    "Security",
    "Sidecar",
    "TcpSocketAction",
    "VolumeMount",
]

_ENV_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_.-]*$")
_CAPABILITY = re.compile(r"^[A-Z][A-Z0-9_]*$")
Port = Annotated[int, Field(ge=1, le=65535)]
PortRef = Port | Annotated[str, Field(pattern=r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$", max_length=15)]


def _check_absolute(path: str) -> str:
    if not path.startswith("/") or "/../" in f"{path}/" or "\x00" in path:
        raise ValueError(f"'{path}' is not an absolute path without '..'")
    return path


class HttpHeader(SpecModel):
    name: str
    value: str


class HttpGetAction(SpecModel):
    path: str = "/"
    port: PortRef
    host: str | None = None
    scheme: Literal["HTTP", "HTTPS"] = "HTTP"
    http_headers: list[HttpHeader] = Field(default_factory=list)


class ExecAction(SpecModel):
    command: list[str] = Field(min_length=1)


class TcpSocketAction(SpecModel):
    port: PortRef
    host: str | None = None


class GrpcAction(SpecModel):
    port: Port
    service: str | None = None


class Probe(SpecModel):
    """A probe: exactly one of httpGet, exec, tcpSocket, grpc, plus Kubernetes timing fields."""

    http_get: HttpGetAction | None = None
    exec: ExecAction | None = None
    tcp_socket: TcpSocketAction | None = None
    grpc: GrpcAction | None = None
    initial_delay_seconds: int | None = Field(default=None, ge=0)
    period_seconds: int | None = Field(default=None, ge=1)
    timeout_seconds: int | None = Field(default=None, ge=1)
    success_threshold: int | None = Field(default=None, ge=1)
    failure_threshold: int | None = Field(default=None, ge=1)

    @model_validator(mode="after")
    def _one_handler(self) -> Probe:
        handlers = [self.http_get, self.exec, self.tcp_socket, self.grpc]
        if sum(h is not None for h in handlers) != 1:
            raise ValueError("expected exactly one of httpGet, exec, tcpSocket, grpc")
        return self


class FileSpec(SpecModel):
    """A file mounted into the container: inline text, inline bytes (base64) or a source.

    ``noExpand`` keeps the content verbatim; ``reverseExpand`` swaps the escaping so that
    ``$${...}`` is a placeholder and ``${...}`` stays literal (for shell scripts and
    templates full of ``${VAR}``).
    """

    content: str | None = None
    binary_content: str | None = None
    source: str | None = None
    mode: FileMode | None = None
    no_expand: bool = False
    reverse_expand: bool = False

    @field_validator("binary_content")
    @classmethod
    def _is_base64(cls, value: str | None) -> str | None:
        if value is not None:
            try:
                base64.b64decode(value, validate=True)
            except (binascii.Error, ValueError):
                raise ValueError("binaryContent is not valid base64") from None
        return value

    @model_validator(mode="after")
    def _one_source(self) -> FileSpec:
        given = [self.content, self.binary_content, self.source]
        if sum(v is not None for v in given) != 1:
            raise ValueError("expected exactly one of content, binaryContent, source")
        if self.no_expand and self.reverse_expand:
            raise ValueError("noExpand and reverseExpand cannot both be true")
        if self.binary_content is not None and self.reverse_expand:
            raise ValueError("reverseExpand applies to text content, not binaryContent")
        return self


class VolumeMount(SpecModel):
    """A mount: a declared volume resource (``source``), or an emptyDir when source is absent."""

    source: str | None = None
    path: str | None = None
    read_only: bool = False
    medium: Literal["Memory", ""] | None = None
    size_limit: Quantity | None = None

    @field_validator("path")
    @classmethod
    def _relative_sub_path(cls, value: str | None) -> str | None:
        if value is not None and (value.startswith("/") or ".." in value.split("/")):
            raise ValueError(f"'{value}' must be a relative sub-path without '..'")
        return value

    @model_validator(mode="after")
    def _empty_dir_fields(self) -> VolumeMount:
        if self.source is not None and (self.medium is not None or self.size_limit is not None):
            raise ValueError("medium and sizeLimit apply only to emptyDir mounts (without source)")
        return self


class ContainerResources(SpecModel):
    requests: dict[str, Quantity] = Field(default_factory=dict)
    limits: dict[str, Quantity] = Field(default_factory=dict)


class Security(SpecModel):
    """Security settings; anything looser than Pod Security "restricted" needs a Cedar permit."""

    capabilities: list[str] = Field(default_factory=list)
    drop_capabilities: list[str] | None = None
    privileged: bool | None = None
    read_only_root_filesystem: bool | None = None
    run_as_non_root: bool | None = None
    run_as_user: int | None = Field(default=None, ge=0)
    run_as_group: int | None = Field(default=None, ge=0)
    allow_privilege_escalation: bool | None = None
    seccomp_profile: str | None = None
    apparmor_profile: str | None = None
    allowed_binaries: list[str] = Field(default_factory=list)

    @field_validator("capabilities", "drop_capabilities")
    @classmethod
    def _capability_names(cls, value: list[str] | None) -> list[str] | None:
        for name in value or []:
            if not _CAPABILITY.match(name) or name.startswith("CAP_"):
                raise ValueError(
                    f"'{name}' is not a capability name: expected upper case without the "
                    "CAP_ prefix, such as NET_ADMIN"
                )
        return value

    @field_validator("seccomp_profile", "apparmor_profile")
    @classmethod
    def _profile(cls, value: str | None) -> str | None:
        if value is None or value in ("RuntimeDefault", "Unconfined"):
            return value
        if value.startswith("Localhost/") and len(value) > len("Localhost/"):
            return value
        raise ValueError(
            f"'{value}' is not a profile: expected RuntimeDefault, Unconfined or Localhost/<name>"
        )

    @model_validator(mode="after")
    def _consistent(self) -> Security:
        if self.run_as_non_root and self.run_as_user == 0:
            raise ValueError("runAsNonRoot is true but runAsUser is 0")
        return self


class Container(SpecModel):
    """A Score container with Lattice's probes and security block."""

    image: ImageRef
    command: list[str] | None = None
    args: list[str] | None = None
    variables: Annotated[
        dict[str, str],
        WithJsonSchema(
            {
                "type": "object",
                "additionalProperties": {"anyOf": [{"type": "string"}, {"type": "integer"}]},
            }
        ),
    ] = Field(default_factory=dict)
    files: dict[str, FileSpec] = Field(default_factory=dict)
    volumes: dict[str, VolumeMount] = Field(default_factory=dict)
    resources: ContainerResources | None = None
    liveness_probe: Probe | None = None
    readiness_probe: Probe | None = None
    startup_probe: Probe | None = None
    security: Security | None = None

    @field_validator("variables", mode="before")
    @classmethod
    def _variables_are_text(cls, value: object) -> object:
        # YAML turns `PORT: 8080` into an int; environment values are text.
        if isinstance(value, dict):
            return {
                k: (str(v).lower() if isinstance(v, bool) else str(v))
                if isinstance(v, int | float)
                else v
                for k, v in value.items()
            }
        return value

    @field_validator("variables")
    @classmethod
    def _variable_names(cls, value: dict[str, str]) -> dict[str, str]:
        for name in value:
            if not _ENV_NAME.match(name):
                raise ValueError(
                    f"'{name}' is not an environment variable name: expected letters, digits "
                    "and '_', not starting with a digit"
                )
        return value

    @field_validator("files", "volumes")
    @classmethod
    def _absolute_targets(cls, value: dict[str, object]) -> dict[str, object]:
        for target in value:
            _check_absolute(target)
        return value


class Sidecar(Container):
    """A sidecar container; ``init: true`` makes it an init container."""

    init: bool = False
