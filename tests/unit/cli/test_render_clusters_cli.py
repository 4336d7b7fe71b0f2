"""``lattice render`` with LatticeCluster documents: Cluster API objects and ``--plan``."""

from __future__ import annotations

from pathlib import Path

from ruamel.yaml import YAML
from typer.testing import CliRunner

from lattice_pulumi.cli.main import app
from tests.conftest import EXAMPLES
from tests.unit.compile.cluster.helpers import PARENT_CA, example_docs

runner = CliRunner()
PRODUCTION = EXAMPLES / "clusters" / "production.yaml"


def test_render_prints_the_cluster_api_objects_of_each_cluster() -> None:
    result = runner.invoke(app, ["render", "-f", str(PRODUCTION)])
    assert result.exit_code == 0, result.stderr
    objects = list(YAML(typ="safe").load_all(result.stdout))
    kinds = [o["kind"] for o in objects]
    assert kinds.count("MachineDeployment") == 2
    assert "KubeadmControlPlane" in kinds
    assert "cluster production: 15 Cluster API objects" in result.stderr


def test_parent_options_add_the_bootstrap_step(tmp_path: Path) -> None:
    ca = tmp_path / "ca.pem"
    ca.write_text(PARENT_CA)
    args = ["render", "-f", str(PRODUCTION), "--parent-endpoint", "https://cell.example.com:8443"]
    result = runner.invoke(app, [*args, "--parent-ca", str(ca)])
    assert result.exit_code == 0, result.stderr
    assert "https://cell.example.com:8443/v1/bootstrap/production" in result.stdout
    assert "production-bootstrap-token" in result.stdout


def test_a_cluster_without_its_cloud_provider_is_an_error(tmp_path: Path) -> None:
    cluster, _ = example_docs("aws")
    spec = tmp_path / "cluster.yaml"
    with spec.open("w") as stream:
        YAML(typ="safe", pure=True).dump(cluster, stream)
    result = runner.invoke(app, ["render", "-f", str(spec)])
    assert result.exit_code == 1
    assert result.stdout == ""
    assert (
        "cluster production spec.providerRef: CloudProvider 'aws' is not among the loaded "
        "documents: pass its file with -f" in result.stderr
    )


def test_plan_prints_the_addons_as_a_table() -> None:
    result = runner.invoke(app, ["render", "-f", str(PRODUCTION), "--plan"])
    assert result.exit_code == 0, result.stderr
    assert "add-ons of cluster production" in result.stdout
    for name in ("cilium", "ztunnel", "velero", "gpu-operator", "cluster-auto"):
        assert name in result.stdout
    assert "apiVersion" not in result.stdout


def test_backup_policies_render_as_velero_schedules_for_the_cluster() -> None:
    production = EXAMPLES / "clusters" / "production.yaml"
    result = runner.invoke(
        app, ["render", "-f", str(EXAMPLES / "backups"), "--cluster", str(production)]
    )
    assert result.exit_code == 0, result.stderr
    [schedule] = list(YAML(typ="safe").load_all(result.stdout))
    assert (schedule["kind"], schedule["metadata"]["name"]) == (
        "Schedule",
        "lattice-system-nightly",
    )
    assert "backup policies: 1 Velero Schedules" in result.stderr


def test_backup_policies_without_a_cluster_are_skipped_with_a_warning() -> None:
    result = runner.invoke(app, ["render", "-f", str(EXAMPLES / "backups")])
    assert result.exit_code == 0, result.stderr
    assert not [o for o in YAML(typ="safe").load_all(result.stdout) if o]
    assert "LatticeBackupPolicy lattice-system/nightly: skipped" in result.stderr


def test_clusters_render_with_their_addon_releases() -> None:
    result = runner.invoke(app, ["render", "-f", str(EXAMPLES / "clusters" / "docker-dev.yaml")])
    assert result.exit_code == 0, result.stderr
    kinds = [o["kind"] for o in YAML(typ="safe").load_all(result.stdout)]
    assert kinds.count("HelmChartProxy") == 6
    assert "add-on releases" in result.stderr
