"""Version skew: same major and minors at most one apart interoperate."""

from __future__ import annotations

import pytest

from lattice_pulumi.protocol import ProtocolVersion, ProtocolVersionError, check_compatible

V = ProtocolVersion.parse


@pytest.mark.parametrize(
    ("local", "remote"),
    [
        pytest.param("1.4", "1.4", id="same"),
        pytest.param("1.4", "1.5", id="remote one minor newer"),
        pytest.param("1.4", "1.3", id="remote one minor older"),
    ],
)
def test_compatible_versions(local: str, remote: str) -> None:
    check_compatible(V(local), V(remote), remote_role="agent")


@pytest.mark.parametrize(
    ("local", "remote", "message"),
    [
        pytest.param(
            "1.4",
            "2.0",
            "agent speaks protocol 2.0 but this side speaks 1.4: major versions differ "
            "and cannot interoperate; upgrade the older side",
            id="major newer",
        ),
        pytest.param(
            "1.4",
            "1.2",
            "agent speaks protocol 1.2, more than 1 minor version away from 1.4; "
            "upgrade the older side first",
            id="two minors older",
        ),
    ],
)
def test_incompatible_versions(local: str, remote: str, message: str) -> None:
    with pytest.raises(ProtocolVersionError) as caught:
        check_compatible(V(local), V(remote), remote_role="agent")
    assert str(caught.value) == message


def test_parse_rejects_garbage() -> None:
    with pytest.raises(ValueError, match=r"MAJOR\.MINOR"):
        V("one")
