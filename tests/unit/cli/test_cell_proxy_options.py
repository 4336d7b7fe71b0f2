"""``lattice cell serve``'s proxy time limits reach the proxy's configuration."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from lattice_pulumi.cell import ProxyConfig
from lattice_pulumi.cli import fleet_proxy
from lattice_pulumi.cli.main import app


def _options(**extra: Any) -> fleet_proxy.ProxyOptions:
    return fleet_proxy.ProxyOptions(
        port=8443, policies=[], audiences=[], review_kubeconfig=None, audit_log=None, **extra
    )


def test_the_defaults_are_the_proxy_defaults() -> None:
    assert _options().config() == ProxyConfig(port=8443)


def test_the_timeouts_are_carried_into_the_proxy_config() -> None:
    config = _options(host="0.0.0.0", request_timeout=5.0, idle_timeout=90.0).config()
    assert (config.host, config.port) == ("0.0.0.0", 8443)
    assert (config.request_timeout, config.upgrade_idle_timeout) == (5.0, 90.0)


def test_cell_serve_passes_the_flags_on(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    made: list[fleet_proxy.ProxyOptions] = []
    real = fleet_proxy.ProxyOptions

    def record(**kwargs: Any) -> fleet_proxy.ProxyOptions:
        made.append(real(**kwargs))
        return made[-1]

    monkeypatch.setattr(fleet_proxy, "ProxyOptions", record)
    # --parent without its credentials stops the command right after the options are read
    argv = ["cell", "serve", "--name", "root", "--state-dir", str(tmp_path), "--parent", "up:443"]
    argv += ["--proxy-port", "0"]
    argv += ["--proxy-request-timeout", "7", "--proxy-idle-timeout", "120"]
    result = CliRunner().invoke(app, argv)
    assert result.exit_code == 2, result.output
    assert "--parent and --parent-credentials-dir go together" in result.output
    assert (made[0].request_timeout, made[0].idle_timeout) == (7.0, 120.0)


def test_a_timeout_below_one_second_is_refused(tmp_path: Path) -> None:
    argv = ["cell", "serve", "--name", "root", "--state-dir", str(tmp_path)]
    argv += ["--proxy-idle-timeout", "0"]
    result = CliRunner().invoke(app, argv)
    assert result.exit_code == 2
    assert "Traceback" not in result.output
    assert "--proxy-idle-timeout" in result.output
