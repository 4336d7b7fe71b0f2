"""The one base model of every spec, the shared value checks, and the dump helper.

Wire format is camelCase (Kubernetes style), Python attributes are snake_case; unknown keys
are errors at their path; models are frozen so compilers cannot mutate their input.
"""

from __future__ import annotations

import ipaddress
import re
from typing import Annotated, Any

from pydantic import AfterValidator, BaseModel, BeforeValidator, ConfigDict, Field
from pydantic.alias_generators import to_camel

__all__ = [
    "API_GROUP",
    "API_VERSION",
    "Cidr",
    "DnsLabel",
    "DnsSubdomain",
    "Duration",
    "FileMode",
    "ImageRef",
    "IpAddress",
    "LabelKey",
    "Port",
    "Quantity",
    "SpecModel",
    "dump",
    "dump_canonical",
    "require_exactly_one",
]

API_GROUP = "lattice.dev"
API_VERSION = f"{API_GROUP}/v1alpha1"


class SpecModel(BaseModel):
    """Base of every Lattice model: camelCase aliases, forbid extras, frozen."""

    model_config = ConfigDict(
        alias_generator=to_camel,
        validate_by_name=True,
        validate_by_alias=True,
        serialize_by_alias=True,
        extra="forbid",
        frozen=True,
        use_enum_values=True,
    )


def dump(model: BaseModel) -> dict[str, Any]:
    """Plain JSON-compatible dict for Kubernetes: camelCase keys, no ``None`` values."""
    return model.model_dump(mode="json", by_alias=True, exclude_none=True)


def dump_canonical(model: BaseModel) -> dict[str, Any]:
    """The document as the author meant it, in the canonical spelling: only the fields the
    author set (after other spellings were rewritten), camelCase, in model field order.

    ``lattice validate --canonical`` prints this; two documents that mean the same give the
    same dict whatever spelling each was written in.
    """
    data = model.model_dump(mode="json", by_alias=True, exclude_unset=True, exclude_none=True)
    head = [key for key in ("apiVersion", "kind", "metadata") if key in data]
    return {key: data[key] for key in [*head, *(k for k in data if k not in head)]}


def require_exactly_one(model: BaseModel, *fields: str) -> str:
    """The one of ``fields`` that is set (not ``None``); ``ValueError`` naming them otherwise.

    For "exactly one of" blocks checked in a ``model_validator(mode="after")``; names in the
    message are the wire (alias) names.
    """
    names = {f: type(model).model_fields[f].alias or f for f in fields}
    chosen = [f for f in fields if getattr(model, f) is not None]
    if len(chosen) != 1:
        got = ", ".join(names[f] for f in chosen) if chosen else "none"
        raise ValueError(f"expected exactly one of {', '.join(names.values())}; got {got}")
    return chosen[0]


_DNS_LABEL = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$")
_QUANTITY = re.compile(
    r"^[+]?(\d+(\.\d*)?|\.\d+)(([eE][-+]?\d+)|(Ki|Mi|Gi|Ti|Pi|Ei|m|k|M|G|T|P|E))?$"
)
_DURATION = re.compile(r"^(\d+(\.\d+)?(ns|us|µs|ms|s|m|h))+$")
# An OCI reference: [registry[:port]/]path[:tag][@digest]; no spaces or shell metacharacters.
_IMAGE = re.compile(
    r"^(?:[a-zA-Z0-9.-]+(?::\d+)?/)?[a-z0-9]+(?:[._-]+[a-z0-9]+)*(?:/[a-z0-9]+(?:[._-]+[a-z0-9]+)*)*"
    r"(?::[\w][\w.-]{0,127})?(?:@[A-Za-z][A-Za-z0-9]*(?:[-_+.][A-Za-z][A-Za-z0-9]*)*:[0-9a-fA-F]{32,})?$"
)


def _check_dns_label(value: str) -> str:
    if len(value) > 63 or not _DNS_LABEL.match(value):
        raise ValueError(
            f"'{value}' is not a DNS label: expected at most 63 lowercase letters, digits "
            "and '-', starting and ending with a letter or digit"
        )
    return value


def _check_dns_subdomain(value: str) -> str:
    if len(value) > 253 or not all(_DNS_LABEL.match(p) for p in value.split(".")):
        raise ValueError(
            f"'{value}' is not a DNS subdomain: expected dot-separated DNS labels, "
            "at most 253 characters"
        )
    return value


def _as_text(value: Any) -> Any:
    # YAML gives numbers for `cpu: 2` or `mode: 0644`; the wire format is a string.
    return str(value) if isinstance(value, int | float) and not isinstance(value, bool) else value


def _check_quantity(text: str) -> str:
    if not _QUANTITY.match(text):
        raise ValueError(
            f"'{text}' is not a Kubernetes quantity: expected a number with an optional "
            "suffix such as 500m, 1.5, 256Mi or 10Gi"
        )
    return text


def _check_duration(value: str) -> str:
    if not _DURATION.match(value):
        raise ValueError(f"'{value}' is not a duration: expected forms such as 30s, 5m, 1h30m")
    return value


def _check_file_mode(text: str) -> str:
    if not re.fullmatch(r"0?[0-7]{3,4}", text):
        raise ValueError(f"'{text}' is not an octal file mode: expected forms such as 0644")
    mode = int(text, 8)
    if mode & 0o7000:
        raise ValueError(f"mode {text} sets setuid, setgid or sticky bits, which are not allowed")
    if mode & 0o002:
        raise ValueError(f"mode {text} is world-writable; expected at most 0775")
    return f"0{mode:03o}"


def _check_image(value: str) -> str:
    if value == ".":  # Score: the image comes from the command line or the program
        return value
    if len(value) > 512 or not _IMAGE.match(value):
        raise ValueError(
            f"'{value}' is not an image reference: expected [registry/]name[:tag][@digest] "
            "without spaces or shell characters"
        )
    return value


def _check_cidr(value: str) -> str:
    if "/" not in value:
        raise ValueError(
            f"'{value}' is not a CIDR: expected an address and a prefix length such as 10.0.0.0/16"
        )
    try:
        ipaddress.ip_network(value, strict=True)
    except ValueError:
        try:
            network = ipaddress.ip_network(value, strict=False)
        except ValueError:
            raise ValueError(
                f"'{value}' is not a CIDR: expected an address and a prefix length such as "
                "10.0.0.0/16"
            ) from None
        raise ValueError(
            f"'{value}' has host bits set: expected the network address {network}"
        ) from None
    return value


def _check_ip_address(value: str) -> str:
    try:
        ipaddress.ip_address(value)
    except ValueError:
        raise ValueError(
            f"'{value}' is not an IP address: expected forms such as 10.0.0.1 or fd00::1"
        ) from None
    return value


_LABEL_NAME = re.compile(r"^[A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?$")


def _check_label_key(value: str) -> str:
    prefix, slash, name = value.rpartition("/")
    prefix_ok = not slash or (
        len(prefix) <= 253 and all(_DNS_LABEL.match(p) for p in prefix.split("."))
    )
    if not prefix_ok or len(name) > 63 or not _LABEL_NAME.match(name):
        raise ValueError(
            f"'{value}' is not a label key: expected [prefix/]name where the optional prefix "
            "is a DNS subdomain and name is at most 63 letters, digits, '-', '_' or '.'"
        )
    return value


DnsLabel = Annotated[str, AfterValidator(_check_dns_label)]
DnsSubdomain = Annotated[str, AfterValidator(_check_dns_subdomain)]
Quantity = Annotated[
    str,
    BeforeValidator(_as_text, json_schema_input_type=str | int),
    AfterValidator(_check_quantity),
]
Duration = Annotated[str, AfterValidator(_check_duration)]
FileMode = Annotated[
    str,
    BeforeValidator(_as_text, json_schema_input_type=str | int),
    AfterValidator(_check_file_mode),
]
ImageRef = Annotated[str, AfterValidator(_check_image)]
Cidr = Annotated[str, AfterValidator(_check_cidr)]
"""An IPv4 or IPv6 network in CIDR notation with no host bits set (``10.244.0.0/16``)."""
IpAddress = Annotated[str, AfterValidator(_check_ip_address)]
"""A single IPv4 or IPv6 address."""
LabelKey = Annotated[str, AfterValidator(_check_label_key)]
"""A Kubernetes label, annotation or taint key: ``[prefix/]name``."""
Port = Annotated[int, Field(ge=1, le=65535)]
"""A TCP or UDP port number."""
