"""``lattice mesh`` on a local typer app: matrix, graphs, JSON, findings and bad specs."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import typer
from typer.testing import CliRunner

from lattice_pulumi.cli import mesh
from tests.builders import changed, service, to_yaml
from tests.conftest import EXAMPLES

runner = CliRunner()
app = typer.Typer()


@app.callback()
def _root() -> None:
    """Keeps ``mesh`` a subcommand, as in the real app."""


mesh.register(app)


def _one_sided(tmp_path: Path) -> Path:
    web = changed(service(), "metadata.name", "web")
    web["spec"]["resources"] = {"api": {"type": "service", "direction": "outbound"}}
    (tmp_path / "specs.yaml").write_text(to_yaml(web, service()))
    return tmp_path


def test_table_of_the_examples() -> None:
    result = runner.invoke(app, ["mesh", "-f", str(EXAMPLES / "webapp")], terminal_width=200)
    assert result.exit_code == 0, result.output
    assert "webapp/frontend" in result.stdout and "allow" in result.stdout
    assert "5 services, 0 external services: 6 allowed, 0 denied" in result.stderr


def test_one_sided_declaration_is_a_warning_with_the_fix(tmp_path: Path) -> None:
    result = runner.invoke(app, ["mesh", "-f", str(_one_sided(tmp_path))], terminal_width=200)
    assert result.exit_code == 0, result.output
    assert "deny (no inbound)" in result.stdout
    assert (
        "add to shop/api spec.resources: web: {type: service, direction: inbound}" in result.stderr
    )


def test_json_output(tmp_path: Path) -> None:
    result = runner.invoke(app, ["mesh", "-f", str(_one_sided(tmp_path)), "-o", "json"])
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    assert report["edges"] == [
        {
            "allowed": False,
            "callee": "shop/api",
            "caller": "shop/web",
            "external": False,
            "verdict": "denied: callee does not declare the caller",
        }
    ]


@pytest.mark.parametrize(("fmt", "start"), [("dot", "digraph mesh {"), ("mermaid", "flowchart LR")])
def test_graph_outputs(fmt: str, start: str) -> None:
    result = runner.invoke(app, ["mesh", "-f", str(EXAMPLES / "webapp"), "-o", fmt])
    assert result.exit_code == 0, result.output
    assert result.stdout.startswith(start)


def test_bad_spec_exits_1_without_traceback(tmp_path: Path) -> None:
    (tmp_path / "bad.yaml").write_text(to_yaml(changed(service(), "spec.replicas", -3)))
    result = runner.invoke(app, ["mesh", "-f", str(tmp_path)])
    assert result.exit_code == 1
    assert "spec.replicas" in result.stderr
    assert "Traceback" not in result.output
