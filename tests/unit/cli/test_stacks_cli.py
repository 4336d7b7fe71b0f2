"""``lattice up/preview/destroy/stacks``: errors are one line and exit 1, never tracebacks.

These run without the engine: every case fails (or is refused) before the engine starts,
or checks the message given when the engine is missing.
"""

from __future__ import annotations

from pathlib import Path

import pytest
import typer
from typer.testing import CliRunner

from lattice_pulumi.cli import stacks
from tests.conftest import EXAMPLES

runner = CliRunner()
app = typer.Typer(pretty_exceptions_enable=False)
stacks.register(app)


@pytest.fixture(autouse=True)
def no_engine(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("LATTICE_STATE_DIR", str(tmp_path / "state"))
    monkeypatch.setenv("LATTICE_TOOLS_DIR", str(tmp_path / "tools"))
    monkeypatch.setenv("PATH", str(tmp_path / "bin"))
    monkeypatch.delenv("PULUMI_CONFIG_PASSPHRASE", raising=False)


@pytest.mark.parametrize("command", ["up", "preview"])
def test_no_target_cluster_is_one_line(command: str) -> None:
    result = runner.invoke(app, [command, "-f", str(EXAMPLES / "webapp")])
    assert result.exit_code == 1
    assert result.stderr.strip() == (
        "error no target cluster: pass --kubeconfig PATH, or --render-to DIR to write the "
        "manifests without a cluster (the ambient kubeconfig is never used silently)"
    )
    assert "Traceback" not in result.output


def test_bad_spec_names_file_and_path(tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text(
        "apiVersion: lattice.dev/v1alpha1\nkind: LatticeService\nmetadata: {name: x}\n"
        "spec: {replicas: -1, containers: {main: {image: nginx}}}\n"
    )
    result = runner.invoke(app, ["up", "-f", str(bad), "--render-to", str(tmp_path / "out")])
    assert result.exit_code == 1
    assert f"{bad}:4" in result.stderr
    assert "spec.replicas" in result.stderr


@pytest.mark.parametrize(
    "args",
    [
        pytest.param(["up", "-f", str(EXAMPLES / "webapp"), "--render-to", "out"], id="up"),
        pytest.param(["destroy"], id="destroy"),
        pytest.param(["stacks"], id="stacks"),
    ],
)
def test_missing_engine_says_how_to_get_it(args: list[str]) -> None:
    result = runner.invoke(app, args)
    assert result.exit_code == 1
    assert result.stderr.startswith("error the pulumi engine is not installed")
    assert "scripts/build-tools" in result.stderr
    assert "Traceback" not in result.output


def test_format_changes() -> None:
    assert stacks.format_changes({"same": 2, "create": 3, "delete": 0}) == "create 3, same 2"
    assert stacks.format_changes({}) == "no changes"


def test_default_stack_agrees_with_automation() -> None:
    from lattice_pulumi.automation import settings as automation_settings
    from lattice_pulumi.cli import stacks as stack_commands

    assert stack_commands.DEFAULT_STACK == automation_settings.DEFAULT_STACK


def test_the_cli_starts_without_importing_pulumi() -> None:
    import subprocess
    import sys

    code = (
        "import sys; import lattice_pulumi.cli.main; "
        "print(sorted(m for m in sys.modules if m == 'pulumi' or m.startswith('pulumi.')))"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "[]"
