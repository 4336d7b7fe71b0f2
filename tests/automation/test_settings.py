"""Stack settings: state folder, passphrase and engine lookup, without the engine."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from lattice_pulumi.automation import settings
from lattice_pulumi.errors import ToolError


@pytest.mark.parametrize(
    ("env", "override", "expected"),
    [
        pytest.param({"HOME": "/home/u"}, None, "/home/u/.lattice/state", id="default under HOME"),
        pytest.param(
            {"HOME": "/home/u", "LATTICE_STATE_DIR": "/srv/state"}, None, "/srv/state", id="env"
        ),
        pytest.param(
            {"HOME": "/home/u", "LATTICE_STATE_DIR": "/srv/state"},
            Path("/opt/s"),
            "/opt/s",
            id="argument wins over env",
        ),
    ],
)
def test_state_dir(env: dict[str, str], override: Path | None, expected: str) -> None:
    assert settings.resolve_state_dir(env, override) == Path(expected)


def test_passphrase_from_environment_is_not_stored(tmp_path: Path) -> None:
    found = settings.resolve_passphrase({"PULUMI_CONFIG_PASSPHRASE": "s3cret"}, tmp_path)
    assert found == ("s3cret", "environment")
    assert not (tmp_path / "passphrase").exists()


def test_generated_passphrase_is_stored_0600_and_reused(tmp_path: Path) -> None:
    state = tmp_path / "state"
    first, source = settings.resolve_passphrase({}, state)
    path = state / "passphrase"
    assert source == str(path)
    assert len(first) >= 40
    assert path.stat().st_mode & 0o777 == 0o600
    assert settings.resolve_passphrase({}, state) == (first, str(path))


def test_passphrase_file_readable_by_others_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "passphrase"
    path.write_text("x\n")
    os.chmod(path, 0o644)
    with pytest.raises(ToolError, match="readable by others"):
        settings.resolve_passphrase({}, tmp_path)


def test_stack_settings_and_engine_environment(tmp_path: Path) -> None:
    env = {"HOME": str(tmp_path), "PATH": "/usr/bin", "LATTICE_TOOLS_DIR": str(tmp_path / "none")}
    found = settings.stack_settings("prod", env=env)
    assert (found.project, found.stack) == ("lattice", "prod")
    assert found.backend_url == (tmp_path / ".lattice" / "state").as_uri()
    assert found.passphrase not in repr(found)
    variables = found.env_vars(env)
    assert variables["PULUMI_CONFIG_PASSPHRASE"] == found.passphrase
    assert "PATH" not in variables


def test_built_tools_are_found_pulumi_first(tmp_path: Path) -> None:
    for name in (
        "pulumi-v3.1.0",
        "pulumi-resource-kubernetes-v4.0.0",
        "etcd-v3",
        "pulumi-v3.2.0.tmp",
    ):
        (tmp_path / name / "bin").mkdir(parents=True)
    env = {"PATH": str(tmp_path / "empty"), "LATTICE_TOOLS_DIR": str(tmp_path)}
    assert settings.find_tool_dirs(env) == (
        tmp_path / "pulumi-v3.1.0" / "bin",
        tmp_path / "pulumi-resource-kubernetes-v4.0.0" / "bin",
    )


def test_missing_engine_names_build_tools(tmp_path: Path) -> None:
    env = {"HOME": str(tmp_path), "PATH": str(tmp_path), "LATTICE_TOOLS_DIR": str(tmp_path)}
    found = settings.stack_settings("dev", env=env)
    with pytest.raises(ToolError, match="scripts/build-tools"):
        settings.workspace_options(found, env)
