"""Which requests the API proxy carries as upgraded connections (exec, attach, port-forward)."""

from __future__ import annotations

import pytest

from lattice_pulumi.cell.proxy_upgrade import upgrade_protocol


@pytest.mark.parametrize(
    ("headers", "protocol"),
    [
        pytest.param({"Connection": "Upgrade", "Upgrade": "websocket"}, "websocket", id="ws"),
        pytest.param({"Connection": "Upgrade", "Upgrade": "SPDY/3.1"}, "SPDY/3.1", id="spdy"),
        pytest.param(
            {"Connection": "keep-alive, upgrade", "Upgrade": " websocket "},
            "websocket",
            id="one token of several, any case",
        ),
        pytest.param({"Upgrade": "websocket"}, "", id="no Connection: Upgrade"),
        pytest.param({"Connection": "keep-alive", "Upgrade": "websocket"}, "", id="keep-alive"),
        pytest.param({"Connection": "Upgrade"}, "", id="no protocol named"),
        pytest.param({}, "", id="plain request"),
    ],
)
def test_upgrade_protocol(headers: dict[str, str], protocol: str) -> None:
    assert upgrade_protocol(headers) == protocol
