"""Every YAML file Lattice writes means the same to YAML 1.1 (PyYAML, like kubectl) and 1.2
(ruamel) readers: ``lattice render -o DIR`` of every example, ``lattice crds``, a
bootstrap bundle, ``lattice get ... -o yaml`` and ``lattice validate -o yaml``."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml as pyyaml
from ruamel.yaml import YAML
from typer.testing import CliRunner

from lattice_pulumi import pki
from lattice_pulumi.cell import AgentBundles, CellConfig
from lattice_pulumi.cli import fleet_get, output
from lattice_pulumi.cli.main import app
from tests.conftest import EXAMPLES

runner = CliRunner()


def _both_readers(text: str) -> list[Any]:
    by_pyyaml = list(pyyaml.safe_load_all(text))
    by_ruamel = list(YAML(typ="safe", pure=True).load_all(text))
    assert by_pyyaml == by_ruamel
    return by_ruamel


@pytest.fixture(scope="module")
def rendered(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("rendered")
    result = runner.invoke(app, ["render", "-f", str(EXAMPLES), "-o", str(out)])
    assert result.exit_code == 0, result.stderr
    return out


def test_every_rendered_file_reads_the_same_in_yaml_1_1_and_1_2(rendered: Path) -> None:
    files = sorted(rendered.glob("*.yaml"))
    assert len(files) > 100  # services and clusters of every example
    kinds = set()
    for path in files:
        (obj,) = _both_readers(path.read_text())
        kinds.add(obj["kind"])
    assert {"Deployment", "Cluster", "CiliumNetworkPolicy"} <= kinds


def test_redis_keeps_appendonly_no_as_a_string(rendered: Path) -> None:
    text = (rendered / "webapp_deployment_redis.yaml").read_text()
    (deployment,) = _both_readers(text)
    args = deployment["spec"]["template"]["spec"]["containers"][0]["args"]
    assert args[args.index("--appendonly") + 1] == "no"


def test_lattice_crds_reads_the_same_in_yaml_1_1_and_1_2() -> None:
    result = runner.invoke(app, ["crds"])
    assert result.exit_code == 0, result.stderr
    crds = _both_readers(result.stdout)
    assert len(crds) >= 5
    assert all(crd["kind"] == "CustomResourceDefinition" for crd in crds)


def test_a_bootstrap_bundle_reads_the_same_in_yaml_1_1_and_1_2() -> None:
    ca = pki.CertificateAuthority.create("root", curve="P-256")
    bundles = AgentBundles(CellConfig(name="root"), pki.CellAuthority(ca), lambda: "cell:50051")
    objects = _both_readers(bundles.render("alpha", "https://cell:8443/v1/enrol"))
    assert any(o["kind"] == "Deployment" for o in objects)


def test_fleet_yaml_output_keeps_cluster_names_like_no_as_strings() -> None:
    data = [{"name": "no", "parent": "on", "depth": 1, "version": "1.30"}]
    with output.out.capture() as captured:
        fleet_get._print_data(data, fleet_get.Format.yaml)
    assert _both_readers(captured.get()) == [data]


def test_validate_canonical_output_reads_the_same_in_yaml_1_1_and_1_2() -> None:
    result = runner.invoke(app, ["validate", "-f", str(EXAMPLES), "-o", "yaml"])
    assert result.exit_code == 0, result.stderr
    documents = _both_readers(result.stdout)
    assert {"LatticeService", "LatticeCluster"} <= {d["kind"] for d in documents}
