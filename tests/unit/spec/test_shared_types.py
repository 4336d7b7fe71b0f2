"""The general value types and helpers in spec.base used by the cluster, provider and backup
kinds: Cidr, IpAddress, LabelKey, Port and require_exactly_one."""

from __future__ import annotations

from typing import Any

import pytest
from pydantic import TypeAdapter, ValidationError

from lattice_pulumi.spec.base import Cidr, IpAddress, LabelKey, Port, SpecModel, require_exactly_one


def message_of(kind: Any, value: Any) -> str:
    with pytest.raises(ValidationError) as caught:
        TypeAdapter(kind).validate_python(value)
    [error] = caught.value.errors()
    return str(error["msg"])


@pytest.mark.parametrize(("kind", "value"), [
    pytest.param(Cidr, "10.0.0.0/8", id="ipv4 cidr"),
    pytest.param(Cidr, "fd00::/64", id="ipv6 cidr"),
    pytest.param(Cidr, "192.168.1.7/32", id="single host"),
    pytest.param(IpAddress, "10.0.0.1", id="ipv4 address"),
    pytest.param(IpAddress, "fd00::1", id="ipv6 address"),
    pytest.param(LabelKey, "app", id="plain key"),
    pytest.param(LabelKey, "nvidia.com/gpu", id="prefixed key"),
    pytest.param(LabelKey, "node-role.kubernetes.io/control_plane.x", id="dots and underscores"),
    pytest.param(Port, 1, id="lowest port"),
    pytest.param(Port, 65535, id="highest port"),
])
def test_valid_values_pass_unchanged(kind: Any, value: Any) -> None:
    assert TypeAdapter(kind).validate_python(value) == value


@pytest.mark.parametrize(("kind", "value", "message"), [
    pytest.param(Cidr, "10.0.0.0", "Value error, '10.0.0.0' is not a CIDR: expected an address "
                 "and a prefix length such as 10.0.0.0/16", id="cidr without prefix"),
    pytest.param(Cidr, "10.0.0.0/33", "Value error, '10.0.0.0/33' is not a CIDR: expected an "
                 "address and a prefix length such as 10.0.0.0/16", id="prefix too long"),
    pytest.param(Cidr, "10.1.2.3/8", "Value error, '10.1.2.3/8' has host bits set: expected the "
                 "network address 10.0.0.0/8", id="host bits"),
    pytest.param(IpAddress, "10.0.0.256", "Value error, '10.0.0.256' is not an IP address: "
                 "expected forms such as 10.0.0.1 or fd00::1", id="octet too big"),
    pytest.param(LabelKey, "/gpu", "Value error, '/gpu' is not a label key: expected "
                 "[prefix/]name where the optional prefix is a DNS subdomain and name is at most "
                 "63 letters, digits, '-', '_' or '.'", id="empty prefix"),
    pytest.param(LabelKey, "Nvidia.com/gpu", "Value error, 'Nvidia.com/gpu' is not a label key: "
                 "expected [prefix/]name where the optional prefix is a DNS subdomain and name "
                 "is at most 63 letters, digits, '-', '_' or '.'", id="upper-case prefix"),
    pytest.param(LabelKey, "x" * 64, f"Value error, '{'x' * 64}' is not a label key: expected "
                 "[prefix/]name where the optional prefix is a DNS subdomain and name is at most "
                 "63 letters, digits, '-', '_' or '.'", id="name too long"),
    pytest.param(Port, 0, "Input should be greater than or equal to 1", id="port zero"),
])
def test_invalid_values_say_what_is_expected(kind: Any, value: Any, message: str) -> None:
    assert message_of(kind, value) == message


class _Choice(SpecModel):
    first_block: int | None = None
    second: int | None = None


@pytest.mark.parametrize(("fields", "expected"), [
    pytest.param({"first_block": 1}, "first_block", id="first"),
    pytest.param({"second": 0}, "second", id="zero still counts as set"),
])
def test_exactly_one_returns_the_set_field(fields: dict[str, int], expected: str) -> None:
    assert require_exactly_one(_Choice(**fields), "first_block", "second") == expected


@pytest.mark.parametrize(("fields", "message"), [
    pytest.param({}, "expected exactly one of firstBlock, second; got none", id="none set"),
    pytest.param({"first_block": 1, "second": 2},
                 "expected exactly one of firstBlock, second; got firstBlock, second",
                 id="both set"),
])
def test_exactly_one_names_wire_fields(fields: dict[str, int], message: str) -> None:
    with pytest.raises(ValueError, match=r"^expected") as caught:
        require_exactly_one(_Choice(**fields), "first_block", "second")
    assert str(caught.value) == message
