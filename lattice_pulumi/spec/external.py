"""LatticeExternalService: a dependency outside the mesh, reachable only by allowed callers."""

from __future__ import annotations

import re
from typing import ClassVar, Literal
from urllib.parse import urlsplit

from pydantic import Field, field_validator

from lattice_pulumi.spec.base import DnsLabel, SpecModel
from lattice_pulumi.spec.meta import Resource, Status

__all__ = [
    "Endpoint",
    "LatticeExternalService",
    "LatticeExternalServiceSpec",
    "LatticeExternalServiceStatus",
    "parse_endpoint",
]

_DEFAULT_PORTS = {
    "http": 80,
    "https": 443,
    "grpc": 443,
    "tcp": 0,
    "postgres": 5432,
    "postgresql": 5432,
    "mysql": 3306,
    "redis": 6379,
    "amqp": 5672,
    "amqps": 5671,
}


_LABEL = re.compile(r"[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?")


class Endpoint(SpecModel):
    """A parsed endpoint URL (computed, not on the wire)."""

    scheme: str
    host: str
    port: int


def parse_endpoint(url: str) -> Endpoint:
    parts = urlsplit(url)
    scheme = parts.scheme.lower()
    if scheme not in _DEFAULT_PORTS or not parts.hostname:
        raise ValueError(
            f"'{url}' is not an endpoint URL: expected scheme://host[:port] with scheme one of "
            f"{', '.join(sorted(_DEFAULT_PORTS))}"
        )
    try:
        port = parts.port or _DEFAULT_PORTS[scheme]
    except ValueError:
        raise ValueError(f"'{url}' has an invalid port") from None
    if not port:
        raise ValueError(f"'{url}' needs an explicit port for scheme {scheme}")
    return Endpoint(scheme=scheme, host=parts.hostname, port=port)


class LatticeExternalServiceSpec(SpecModel):
    endpoints: dict[DnsLabel, str] = Field(min_length=1)
    allowed_requesters: list[str] = Field(default_factory=list)
    resolution: Literal["dns", "static"] = "dns"

    @field_validator("endpoints")
    @classmethod
    def _urls(cls, value: dict[str, str]) -> dict[str, str]:
        for url in value.values():
            parse_endpoint(url)
        return value

    @field_validator("allowed_requesters")
    @classmethod
    def _requesters(cls, value: list[str]) -> list[str]:
        for item in value:
            parts = item.split("/")
            if item == "*" or (len(parts) <= 2 and all(_LABEL.fullmatch(p) for p in parts)):
                continue
            raise ValueError(
                f"'{item}' is not a requester: expected a service name, namespace/name, or '*'"
            )
        return value

    def parsed_endpoints(self) -> dict[str, Endpoint]:
        return {name: parse_endpoint(url) for name, url in self.endpoints.items()}


class LatticeExternalServiceStatus(Status):
    phase: Literal["Pending", "Ready", "Failed"] | None = None


class LatticeExternalService(Resource):
    plural: ClassVar[str] = "latticeexternalservices"
    short_names: ClassVar[tuple[str, ...]] = ("lext",)
    printer_columns: ClassVar[tuple[tuple[str, str, str], ...]] = (
        ("Resolution", "string", ".spec.resolution"),
        ("Phase", "string", ".status.phase"),
    )

    kind: Literal["LatticeExternalService"]
    spec: LatticeExternalServiceSpec
    status: LatticeExternalServiceStatus | None = None
