"""Provider components: which providers a cluster needs, the folder form, what is skipped."""

from __future__ import annotations

from pathlib import Path

import pytest

from lattice_pulumi.errors import InstallError, ToolError
from lattice_pulumi.install.bootstrap import ExistingPlane, find_kind
from lattice_pulumi.install.components import (
    generate_components,
    load_components,
    providers_of,
    split_preexisting,
)
from lattice_pulumi.spec import loader
from lattice_pulumi.spec.cluster import LatticeCluster
from tests.conftest import EXAMPLES


def _cluster(name: str) -> LatticeCluster:
    [cluster] = [
        r for r in loader.load(EXAMPLES / "clusters" / name) if isinstance(r, LatticeCluster)
    ]
    return cluster


def test_a_docker_kubeadm_cluster_needs_five_providers() -> None:
    assert providers_of(_cluster("docker-dev.yaml")) == [
        ("--core", "cluster-api"), ("--bootstrap", "kubeadm"), ("--control-plane", "kubeadm"),
        ("--infrastructure", "docker"), ("--addon", "helm"),
    ]  # fmt: skip


def test_a_folder_loads_every_object_of_every_file_in_name_order(tmp_path: Path) -> None:
    (tmp_path / "b.yaml").write_text("kind: Namespace\napiVersion: v1\nmetadata: {name: b}\n")
    (tmp_path / "a.yml").write_text(
        "---\nkind: Namespace\napiVersion: v1\nmetadata: {name: a1}\n---\n"
        "kind: Namespace\napiVersion: v1\nmetadata: {name: a2}\n"
    )
    names = [o["metadata"]["name"] for o in load_components(tmp_path)]
    assert names == ["a1", "a2", "b"]  # files in name order, documents in file order


@pytest.mark.parametrize(
    ("files", "message"),
    [
        pytest.param({}, "{d}: no *.yaml file in it", id="empty folder"),
        pytest.param({"x.yaml": "a: [1"}, "{d}/x.yaml: not YAML: ", id="not YAML"),
        pytest.param({"x.yaml": "- 1\n"}, "{d}/x.yaml: document 1: expected a Kubernetes "
                     "object (apiVersion, kind, metadata.name)", id="not an object"),
    ],
)  # fmt: skip
def test_bad_component_folders_are_one_line_errors(
    tmp_path: Path, files: dict[str, str], message: str
) -> None:
    for name, text in files.items():
        (tmp_path / name).write_text(text)
    with pytest.raises(InstallError) as caught:
        load_components(tmp_path)
    text = str(caught.value)
    assert text.startswith("install: provider components " if not files else "install: ")
    assert message.format(d=tmp_path) in text and "\n" not in text


def test_objects_that_were_there_before_are_left_out() -> None:
    objects = [{"kind": "CustomResourceDefinition", "metadata": {"name": n}} for n in "ab"]
    kept = split_preexisting(objects, ["CustomResourceDefinition//a"])
    assert [o["metadata"]["name"] for o in kept] == ["b"]


def test_missing_tools_say_what_to_install(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PATH", str(tmp_path))  # neither kind nor clusterctl on it
    with pytest.raises(ToolError, match=r"^the kind binary is not on PATH: install kind"):
        find_kind()
    with pytest.raises(ToolError, match=r"^clusterctl is not on PATH: install clusterctl"):
        generate_components(_cluster("docker-dev.yaml"))


def test_an_existing_plane_without_its_kubeconfig_is_refused(tmp_path: Path) -> None:
    plane = ExistingPlane(tmp_path / "none")
    assert not plane.is_up() and not plane.owns_plane
    with pytest.raises(InstallError, match=r"bootstrap kubeconfig .* does not exist"):
        plane.ensure()
