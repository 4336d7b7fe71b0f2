"""``lattice operator run`` is wired into the CLI with its options and environment names."""

from __future__ import annotations

from typer.testing import CliRunner

from lattice_pulumi.cli.main import app


def test_operator_run_help_lists_its_options() -> None:
    result = CliRunner().invoke(app, ["operator", "run", "--help"])
    assert result.exit_code == 0, result.output
    for option in ("--cluster", "--kubeconfig", "--namespace", "--lease-duration", "--port"):
        assert option in result.output


def test_operator_run_without_a_cluster_config_fails_in_one_line() -> None:
    result = CliRunner().invoke(
        app, ["operator", "run", "--kubeconfig", "/nonexistent/kubeconfig", "--port", "0"]
    )
    assert result.exit_code != 0
    assert "Traceback" not in result.output
    assert result.output.strip().endswith("/nonexistent/kubeconfig not found")
    assert len(result.output.strip().splitlines()) == 1
