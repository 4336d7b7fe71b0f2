"""``lattice render`` through the real typer app: stdout, a folder, errors without output."""

from __future__ import annotations

from pathlib import Path

from ruamel.yaml import YAML
from typer.testing import CliRunner

from lattice_pulumi.cli.main import app
from tests.builders import changed, service, to_yaml
from tests.conftest import EXAMPLES

runner = CliRunner()


def test_render_examples_prints_every_object_and_a_summary_per_service() -> None:
    result = runner.invoke(app, ["render", "-f", str(EXAMPLES)])
    assert result.exit_code == 0, result.stderr
    objects = list(YAML(typ="safe").load_all(result.stdout))
    assert len(objects) > 40
    assert "platform/api-gateway: 17 objects" in result.stderr
    assert "webapp/worker:" in result.stderr


def test_render_to_a_folder_writes_one_file_per_object(tmp_path: Path) -> None:
    out = tmp_path / "out"
    result = runner.invoke(
        app,
        [
            "render",
            "-f",
            str(EXAMPLES / "webapp"),
            "-f",
            str(EXAMPLES / "policies"),
            "-o",
            str(out),
        ],
    )
    assert result.exit_code == 0, result.stderr
    names = sorted(p.name for p in out.iterdir())
    assert "webapp_deployment_api.yaml" in names
    assert "webapp_externalsecret_api-db-credentials.yaml" in names
    assert result.stdout == ""


def test_denied_secret_fails_with_the_permit_and_writes_nothing(tmp_path: Path) -> None:
    out = tmp_path / "out"
    result = runner.invoke(app, ["render", "-f", str(EXAMPLES / "webapp"), "-o", str(out)])
    assert result.exit_code == 1
    assert "service webapp/api may not read secret 'lattice-secrets:webapp/db': no permit." in (
        result.stderr
    )
    assert 'Add: permit(principal == Lattice::Service::"webapp/api"' in result.stderr
    assert not out.exists()
    assert "Traceback" not in result.output


def test_invalid_spec_reports_the_path(tmp_path: Path) -> None:
    spec = tmp_path / "svc.yaml"
    spec.write_text(to_yaml(changed(service(), "spec.containers.main.image", "Bad Image")))
    result = runner.invoke(app, ["render", "-f", str(spec)])
    assert result.exit_code == 1
    assert f"{spec}:" in result.stderr and "spec.containers.main.image" in result.stderr


def test_image_option_fills_image_dot(tmp_path: Path) -> None:
    spec = tmp_path / "svc.yaml"
    spec.write_text(to_yaml(changed(service(), "spec.containers.main.image", ".")))
    result = runner.invoke(app, ["render", "-f", str(spec), "--image", "ghcr.io/acme/api:7"])
    assert result.exit_code == 0, result.stderr
    assert "image: ghcr.io/acme/api:7" in result.stdout


def test_cluster_file_sets_cluster_placeholders(tmp_path: Path) -> None:
    spec = tmp_path / "svc.yaml"
    spec.write_text(
        to_yaml(
            changed(service(), "spec.containers.main.variables", {"CLUSTER": "${cluster.name}"})
        )
    )
    cluster = EXAMPLES / "clusters" / "docker-dev.yaml"
    result = runner.invoke(app, ["render", "-f", str(spec), "--cluster", str(cluster)])
    assert result.exit_code == 0, result.stderr
    (name,) = [
        d["metadata"]["name"]
        for d in YAML(typ="safe").load_all(cluster.read_text())
        if d["kind"] == "LatticeCluster"
    ]
    assert f"CLUSTER: {name}" in result.stdout
