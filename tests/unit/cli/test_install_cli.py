"""``lattice install`` / ``uninstall``: the dry-run plan, saved progress shown, clear refusals."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from lattice_pulumi.cli.main import app
from lattice_pulumi.install import Progress, spec_digest
from lattice_pulumi.spec import loader
from lattice_pulumi.spec.base import dump_canonical
from lattice_pulumi.spec.cluster import LatticeCluster
from tests.conftest import EXAMPLES

runner = CliRunner()
PRODUCTION = EXAMPLES / "clusters" / "production.yaml"


def _install(*args: str) -> tuple[int, str, str]:
    result = runner.invoke(app, ["install", "-f", str(PRODUCTION), *args])
    return result.exit_code, result.stdout, result.stderr


def test_dry_run_prints_every_phase_in_order(tmp_path: Path) -> None:
    code, out, err = _install("--dry-run", "--stacks-dir", str(tmp_path))
    assert code == 0, err
    lines = [line for line in out.splitlines() if line[:1].isdigit()]
    assert [line.split(":")[0] for line in lines] == [
        "1. bootstrap-plane", "2. cluster-api", "3. apply-cluster", "4. wait-ready",
        "5. addons", "6. pivot", "7. remove-bootstrap",
    ]  # fmt: skip
    assert "wave 5: ztunnel 1.27.0" in out
    assert not (tmp_path / "production").exists()  # a dry run writes nothing


def test_dry_run_shows_what_an_interrupted_run_did(tmp_path: Path) -> None:
    [cluster] = [r for r in loader.load(PRODUCTION) if isinstance(r, LatticeCluster)]
    path = tmp_path / "production" / "install-progress.json"
    Progress(path, "install", spec_digest(dump_canonical(cluster)),
             ["bootstrap-plane", "cluster-api"], "apply-cluster").save()  # fmt: skip
    code, out, err = _install("--dry-run", "--stacks-dir", str(tmp_path))
    assert code == 0, err
    assert (
        "2. cluster-api: install Cluster API, its providers and the Lattice operator (done)" in out
    )
    assert "Cluster API objects (interrupted: runs again)" in out


def test_progress_of_another_spec_is_refused_in_one_line(tmp_path: Path) -> None:
    Progress(tmp_path / "production" / "install-progress.json", "install", "other").save()
    code, _, err = _install("--dry-run", "--stacks-dir", str(tmp_path))
    assert code == 1
    assert err.startswith("error install: saved progress") and "--restart" in err
    code, _, err = _install("--dry-run", "--restart", "--stacks-dir", str(tmp_path))
    assert code == 0, err


def test_without_kind_or_a_bootstrap_kubeconfig_it_says_what_to_install(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PATH", str(tmp_path / "empty"))  # no kind binary on it
    code, out, err = _install("--stacks-dir", str(tmp_path))
    assert code == 1 and out == ""
    assert err.strip().splitlines() == [
        "error the kind binary is not on PATH: install kind (https://kind.sigs.k8s.io, `go "
        "install sigs.k8s.io/kind@latest`) and Docker or Podman, or pass "
        "--bootstrap-kubeconfig of an existing management cluster"
    ]
    assert not (tmp_path / "production").exists()


def test_a_missing_cluster_file_is_one_line(tmp_path: Path) -> None:
    result = runner.invoke(app, ["install", "-f", str(tmp_path / "none.yaml")])
    assert result.exit_code == 1
    assert result.stderr == (
        f"error install: cluster file {tmp_path / 'none.yaml'} does not exist: expected a "
        "LatticeCluster YAML file\n"
    )


def test_a_file_without_its_cloud_provider_is_refused(tmp_path: Path) -> None:
    lone = tmp_path / "lone.yaml"
    lone.write_text(PRODUCTION.read_text().split("\n---")[0])
    result = runner.invoke(app, ["install", "-f", str(lone), "--dry-run"])
    assert result.exit_code == 1
    assert "spec.providerRef: expected the CloudProvider 'aws' in the same file" in result.stderr


def test_uninstall_dry_run_prints_the_reverse_phases(tmp_path: Path) -> None:
    kubeconfig = tmp_path / "kubeconfig"
    kubeconfig.write_text("apiVersion: v1\nkind: Config\n")
    result = runner.invoke(app, ["uninstall", "-k", str(kubeconfig), "--dry-run"])
    assert result.exit_code == 0, result.stderr
    assert "2. pivot-back:" in result.stdout and "3. delete-cluster:" in result.stdout
    missing = runner.invoke(app, ["uninstall", "-k", str(tmp_path / "nope")])
    assert missing.exit_code == 1 and "does not exist" in missing.stderr
