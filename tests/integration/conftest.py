"""Fixtures for integration tests against real servers built by ``scripts/build-tools``.

``control_plane`` (session): etcd + kube-apiserver + kube-controller-manager on loopback.
``control_plane_factory``: start more, independent control planes (two-cluster tests).
``kube``: a small client for the session control plane; ``namespace``: a fresh namespace.
``crd_schemas``: the third-party CRD schemas (``scripts/fetch-crds``' cache, else
``../shared/crd-schemas``; skips when neither is there).
``pulumi_engine``: an isolated Pulumi engine (PULUMI_HOME and file:// backend in a temp
dir, passphrase secrets, built binaries first on PATH); ``pulumi_kubernetes_engine`` adds
the built ``pulumi-resource-kubernetes``; ``pulumi_shell_engine`` adds the language hosts
(``pulumi-language-python``, ``pulumi-language-yaml``) too, for projects run from a shell.
Outside CI a missing tool skips with one line naming ``scripts/build-tools``; with ``CI``
set it fails instead. This directory has no ``__init__.py`` on purpose: pytest puts it on
``sys.path`` so ``harness`` imports as a top-level package (and the lines below make
sure of it even if the tree becomes packages).
"""

from __future__ import annotations

import os
import shutil
import sys
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

# `harness` is imported as a top-level package from this directory, whether or not the
# test tree is laid out as packages.
if str(Path(__file__).resolve().parent) not in sys.path:
    sys.path.insert(0, str(Path(__file__).resolve().parent))

from harness.control_plane import ControlPlane, start_control_plane
from harness.crds import schemas_dir
from harness.kube import KubeClient
from harness.pulumi_engine import PulumiEngine, make_engine
from harness.tools import in_ci

ControlPlaneFactory = Callable[..., ControlPlane]


@pytest.fixture(scope="session")
def control_plane_factory(
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[ControlPlaneFactory]:
    """Start control planes on demand; all are stopped when the session ends."""
    started: list[ControlPlane] = []
    base = tmp_path_factory.mktemp("control-planes")

    def start(name: str = "lattice-test", **options: object) -> ControlPlane:
        plane = start_control_plane(name, base_dir=base, **options)  # type: ignore[arg-type]
        started.append(plane)
        return plane

    try:
        yield start
    finally:
        for plane in reversed(started):
            plane.stop()
            if not os.environ.get("LATTICE_KEEP_TEST_DIRS"):
                shutil.rmtree(plane.directory / "etcd", ignore_errors=True)


@pytest.fixture(scope="session")
def control_plane(control_plane_factory: ControlPlaneFactory) -> ControlPlane:
    """The session's control plane: etcd, kube-apiserver and kube-controller-manager."""
    return control_plane_factory("lattice-test")


@pytest.fixture(scope="session")
def kube(control_plane: ControlPlane) -> KubeClient:
    """Admin client of the session control plane."""
    return control_plane.client


@pytest.fixture
def namespace(kube: KubeClient) -> Iterator[str]:
    """A fresh namespace, deleted after the test."""
    name = f"t-{uuid.uuid4().hex[:10]}"
    kube.apply({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": name}})
    yield name
    kube.delete("v1", "Namespace", name)


@pytest.fixture(scope="session")
def crd_schemas() -> Path:
    """The third-party CRD schemas: scripts/fetch-crds' cache, else ../shared/crd-schemas."""
    found = schemas_dir()
    if found is None:
        message = "no third-party CRD schemas: run scripts/fetch-crds (CRD tests need them)"
        if in_ci():
            pytest.fail(message, pytrace=False)
        pytest.skip(message)
    return found


def _engine(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    with_kubernetes: bool,
    with_languages: bool = False,
) -> PulumiEngine:
    engine = make_engine(
        tmp_path / "pulumi", with_kubernetes=with_kubernetes, with_languages=with_languages
    )
    for key, value in engine.env.items():
        monkeypatch.setenv(key, value)
    return engine


@pytest.fixture
def pulumi_engine(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> PulumiEngine:
    """The built pulumi CLI with a private PULUMI_HOME and a file:// backend."""
    return _engine(tmp_path, monkeypatch, with_kubernetes=False)


@pytest.fixture
def pulumi_kubernetes_engine(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> PulumiEngine:
    """Like ``pulumi_engine``, with the built pulumi-resource-kubernetes on PATH."""
    return _engine(tmp_path, monkeypatch, with_kubernetes=True)


@pytest.fixture
def pulumi_shell_engine(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> PulumiEngine:
    """Like ``pulumi_kubernetes_engine``, with the Python and YAML language hosts on PATH."""
    return _engine(tmp_path, monkeypatch, with_kubernetes=True, with_languages=True)
