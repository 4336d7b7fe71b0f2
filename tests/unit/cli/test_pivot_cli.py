"""``lattice pivot`` option handling and plan printing, without a cluster."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from lattice_pulumi.cli import pivot as pivot_cli
from lattice_pulumi.cli.main import app
from lattice_pulumi.pivot import build_graph, plan_move
from tests.pivot_builders import ObjectSet, workload_cluster

runner = CliRunner()


@pytest.mark.parametrize(
    "args",
    [
        pytest.param(["--from", "a"], id="a source without a destination"),
        pytest.param(["--to", "b"], id="a destination without a source"),
        pytest.param(["--from", "a", "--to", "b", "--to-directory", "d"], id="two destinations"),
    ],
)
def test_an_incomplete_pair_of_ends_is_one_line_error(args: list[str]) -> None:
    result = runner.invoke(app, ["pivot", *args])
    assert result.exit_code == 1
    assert result.output.strip().splitlines()[-1] == (
        "error pivot setup: give --from and --to, --from and --to-directory, or "
        "--from-directory and --to"
    )


def test_a_missing_kubeconfig_is_named(tmp_path: Path) -> None:
    missing = tmp_path / "nope"
    result = runner.invoke(app, ["pivot", "--from", str(missing), "--to", str(missing)])
    assert result.exit_code == 1
    assert f"Configuration file {missing} not found" in result.output
    assert "Traceback" not in result.output


def test_the_plan_lists_groups_owners_first(capsys: pytest.CaptureFixture[str]) -> None:
    plan = plan_move(build_graph(workload_cluster(ObjectSet(), "dev", machines=1).objects))
    pivot_cli.print_plan(plan)
    lines = capsys.readouterr().out.splitlines()
    assert lines[:3] == ["Plan for Cluster capi/dev: 14 objects", "group 1:", "  Cluster capi/dev"]
    assert lines[-2:] == ["group 6:", "  Secret capi/dev-md-abc12-0"]
