"""``lattice token``, ``use`` and ``logout`` on the files ``lattice login`` writes."""

from __future__ import annotations

import base64
import json
import stat
from datetime import UTC, datetime, timedelta
from pathlib import Path

from ruamel.yaml import YAML
from typer.testing import CliRunner

from lattice_pulumi.cli import access_files as files
from lattice_pulumi.cli.main import app

SERVER = "https://127.0.0.1:9443"
NOW = datetime(2026, 12, 2, 12, 0, tzinfo=UTC)


def jwt(claims: dict[str, object]) -> str:
    def part(data: dict[str, object]) -> str:
        return base64.urlsafe_b64encode(json.dumps(data).encode()).decode().rstrip("=")

    return f"{part({'alg': 'RS256'})}.{part(claims)}.c2lnbmF0dXJl"


def logged_in(home: Path, token: str, expires: datetime) -> Path:
    files.save_token(home, files.CachedToken(SERVER, token, expires))
    config = files.build_kubeconfig(SERVER, b"-----CA-----\n", ["prod", "us-east"], home)
    path = home / "kubeconfig"
    files.write_private_atomically(path, json.dumps(config))
    return path


def test_expiry_comes_from_a_jwt_or_the_ttl() -> None:
    assert files.token_expiry(jwt({"exp": 1_800_000_000}), NOW, timedelta(hours=1)) == (
        datetime.fromtimestamp(1_800_000_000, UTC)
    )
    assert files.token_expiry("opaque-token", NOW, timedelta(hours=1)) == NOW + timedelta(hours=1)
    assert files.token_expiry("a.%%%.c", NOW, timedelta(minutes=5)) == NOW + timedelta(minutes=5)


def test_the_kubeconfig_has_a_context_per_cluster_and_the_exec_plugin() -> None:
    config = files.build_kubeconfig(SERVER + "/", b"CA", ["prod", "us-east"], Path("/h"), "us-east")
    assert [c["cluster"]["server"] for c in config["clusters"]] == [
        f"{SERVER}/clusters/prod",
        f"{SERVER}/clusters/us-east",
    ]
    assert config["clusters"][0]["cluster"]["certificate-authority-data"] == "Q0E="
    assert config["current-context"] == "us-east"
    plugin = config["users"][0]["user"]["exec"]
    assert plugin["apiVersion"] == "client.authentication.k8s.io/v1"
    assert plugin["args"][-5:] == ["token", "--server", SERVER, "--home", "/h"]


def test_token_prints_an_exec_credential_until_expiry(tmp_path: Path) -> None:
    future = datetime.now(UTC).replace(microsecond=0) + timedelta(hours=1)
    logged_in(tmp_path, "tok-123", future)
    result = CliRunner().invoke(app, ["token", "--server", SERVER, "--home", str(tmp_path)])
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout) == {
        "apiVersion": "client.authentication.k8s.io/v1",
        "kind": "ExecCredential",
        "status": {"token": "tok-123", "expirationTimestamp": f"{future:%Y-%m-%dT%H:%M:%SZ}"},
    }
    assert "tok-123" not in (tmp_path / "kubeconfig").read_text()  # only in the cache
    cache = files.token_file(tmp_path, SERVER)
    assert stat.S_IMODE(cache.stat().st_mode) == 0o600


def test_an_expired_token_asks_for_a_new_login(tmp_path: Path) -> None:
    logged_in(tmp_path, "tok-old", datetime(2020, 1, 1, tzinfo=UTC))
    result = CliRunner().invoke(app, ["token", "--server", SERVER, "--home", str(tmp_path)])
    assert result.exit_code == 1
    assert result.stderr.strip() == (
        f"error the token for {SERVER} expired at 2020-01-01T00:00:00Z: "
        f"run 'lattice login {SERVER}' again"
    )
    assert "tok-old" not in result.output


def test_use_switches_the_context_and_names_the_known_ones(tmp_path: Path) -> None:
    path = logged_in(tmp_path, "t", datetime.now(UTC) + timedelta(hours=1))
    runner = CliRunner()
    result = runner.invoke(app, ["use", "us-east", "--home", str(tmp_path)])
    assert result.exit_code == 0, result.output
    assert YAML(typ="safe").load(path.read_text())["current-context"] == "us-east"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    result = runner.invoke(app, ["use", "staging", "--home", str(tmp_path)])
    assert result.exit_code == 1
    assert f"no cluster 'staging' in {path} (known: prod, us-east)" in result.stderr


def test_logout_removes_the_kubeconfig_and_the_tokens(tmp_path: Path) -> None:
    logged_in(tmp_path, "t", datetime.now(UTC) + timedelta(hours=1))
    result = CliRunner().invoke(app, ["logout", "--home", str(tmp_path)])
    assert result.exit_code == 0, result.output
    assert not (tmp_path / "kubeconfig").exists()
    assert not list((tmp_path / "tokens").iterdir())
    result = CliRunner().invoke(app, ["token", "--server", SERVER, "--home", str(tmp_path)])
    assert result.exit_code == 1 and "not logged in" in result.stderr
