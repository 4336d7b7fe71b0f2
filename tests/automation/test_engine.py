"""The real engine: ``lattice preview/up/destroy --render-to`` end to end, no cluster needed.

Skipped unless the pulumi CLI (and, for the up test, pulumi-resource-kubernetes) is on PATH
or built by scripts/build-tools. The Kubernetes provider renders YAML into a folder
(``render_yaml_to_directory``) instead of calling an API server.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest
import typer
from typer.testing import CliRunner

from lattice_pulumi.automation import settings
from lattice_pulumi.cli import stacks
from tests.conftest import EXAMPLES

_TOOLS = settings.find_tool_dirs(os.environ)
_PATH = os.pathsep.join([*map(str, _TOOLS), os.environ.get("PATH", "")])
_HAS_PULUMI = shutil.which("pulumi", path=_PATH) is not None
_HAS_KUBERNETES = shutil.which("pulumi-resource-kubernetes", path=_PATH) is not None

pytestmark = pytest.mark.skipif(
    not _HAS_PULUMI, reason="pulumi is not on PATH: build it with scripts/build-tools"
)
needs_kubernetes = pytest.mark.skipif(
    not _HAS_KUBERNETES,
    reason="pulumi-resource-kubernetes is not on PATH: build it with scripts/build-tools",
)

runner = CliRunner()
app = typer.Typer(pretty_exceptions_enable=False)
stacks.register(app)


@pytest.fixture(autouse=True)
def private_engine(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("LATTICE_STATE_DIR", str(tmp_path / "state"))
    monkeypatch.setenv("PULUMI_HOME", str(tmp_path / "home"))
    monkeypatch.setenv("PULUMI_DISABLE_AUTOMATIC_PLUGIN_ACQUISITION", "true")
    monkeypatch.delenv("PULUMI_CONFIG_PASSPHRASE", raising=False)


def test_stacks_on_an_empty_state_folder(tmp_path: Path) -> None:
    result = runner.invoke(app, ["stacks"])
    assert result.exit_code == 0, result.output
    assert f"state: {tmp_path / 'state'}" in result.stderr
    assert (tmp_path / "state" / "passphrase").stat().st_mode & 0o777 == 0o600


@needs_kubernetes
def test_up_renders_every_object_then_destroy(tmp_path: Path) -> None:
    out = tmp_path / "rendered"
    files = ["-f", str(EXAMPLES / "webapp"), "-f", str(EXAMPLES / "policies")]
    result = runner.invoke(app, ["up", *files, "--render-to", str(out), "--stack", "ci"])
    assert result.exit_code == 0, result.output
    rendered = sorted(p.name for p in out.rglob("*.yaml"))
    assert len(rendered) == 45, rendered
    assert "up: create" in result.stderr
    again = runner.invoke(app, ["preview", *files, "--render-to", str(out), "--stack", "ci"])
    assert again.exit_code == 0, again.output
    assert "preview: same" in again.stderr
    listed = runner.invoke(app, ["stacks"])
    assert "ci" in listed.stdout
    gone = runner.invoke(app, ["destroy", "--stack", "ci"])
    assert gone.exit_code == 0, gone.output
    assert "destroy: delete" in gone.stderr
