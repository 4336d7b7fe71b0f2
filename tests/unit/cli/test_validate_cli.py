"""``lattice validate`` and ``lattice crds`` through the real typer app."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from lattice_pulumi.cli.main import app
from tests.builders import changed, service, to_yaml
from tests.conftest import EXAMPLES

runner = CliRunner()


def test_validate_examples_passes() -> None:
    result = runner.invoke(app, ["validate", "-f", str(EXAMPLES)])
    assert result.exit_code == 0, result.output
    assert "valid in" in result.stderr


def test_validate_reports_file_line_path_and_exits_1(tmp_path: Path) -> None:
    bad = tmp_path / "svc.yaml"
    bad.write_text(to_yaml(changed(service(), "spec.replicas", -3)))
    result = runner.invoke(app, ["validate", "-f", str(bad)])
    assert result.exit_code == 1
    assert f"{bad}:" in result.stderr
    assert "spec.replicas: expected greater than or equal to 0, got -3" in result.stderr
    assert "Traceback" not in result.output


def test_validate_json_output_for_machines(tmp_path: Path) -> None:
    bad = tmp_path / "svc.yaml"
    bad.write_text(to_yaml(service(), changed(service(), "kind", "Nope")))
    result = runner.invoke(app, ["validate", "-f", str(bad), "-o", "json"])
    assert result.exit_code == 1
    report = json.loads(result.stdout)
    assert report["valid"] is False
    assert report["objects"] == [{"kind": "LatticeService", "namespace": "shop", "name": "api"}]
    (error,) = report["errors"]
    assert (error["path"], error["file"]) == ("kind", str(bad))
    assert error["line"] > 1


def test_validate_missing_file_is_an_error_not_a_traceback(tmp_path: Path) -> None:
    result = runner.invoke(app, ["validate", "-f", str(tmp_path / "nope.yaml")])
    assert result.exit_code == 1
    assert "no such file or folder" in result.stderr


def test_custom_resource_type_is_a_warning_not_an_error(tmp_path: Path) -> None:
    doc = tmp_path / "svc.yaml"
    doc.write_text(to_yaml(service(resources={"q": {"type": "nats"}})))
    result = runner.invoke(app, ["validate", "-f", str(doc)])
    assert result.exit_code == 0
    assert "warning" in result.stderr and "resource type 'nats' has no provisioner" in result.stderr


def test_strict_makes_an_unprovisioned_type_an_error(tmp_path: Path) -> None:
    doc = tmp_path / "svc.yaml"
    doc.write_text(to_yaml(service(resources={"q": {"type": "nats"}})))
    result = runner.invoke(app, ["validate", "-f", str(doc), "--strict"])
    assert result.exit_code == 1
    assert "resource type 'nats' has no provisioner" in result.stderr


def test_a_provisioner_file_makes_a_type_known(tmp_path: Path) -> None:
    doc = tmp_path / "svc.yaml"
    doc.write_text(to_yaml(service(resources={"q": {"type": "nats"}})))
    prov = tmp_path / "nats.yaml"
    prov.write_text("- type: nats\n  outputs: {host: '${name}.${namespace}.svc'}\n")
    args = ["validate", "-f", str(doc), "--provisioners", str(prov), "--strict"]
    result = runner.invoke(app, args)
    assert result.exit_code == 0, result.stderr


def test_crds_prints_every_crd() -> None:
    result = runner.invoke(app, ["crds"])
    assert result.exit_code == 0
    assert result.stdout.count("kind: CustomResourceDefinition") >= 2
    assert "name: latticeservices.lattice.dev" in result.stdout
