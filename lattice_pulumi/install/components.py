"""The Cluster API provider components a cluster needs, as manifests Pulumi applies.

Which providers: core ``cluster-api``, the bootstrap and control-plane providers of the
cluster's flavour (kubeadm or rke2), its infrastructure provider and the Helm add-on
provider (CAAPH, which installs the add-on releases). Where they come from:

* ``--provider-components DIR``: every ``*.yaml``/``*.yml`` file in it, as written (for
  air-gapped installs: ``clusterctl generate provider --core cluster-api > DIR/core.yaml``
  and so on), or
* otherwise ``clusterctl generate provider`` for each, which reads the providers'
  published release files and substitutes their variables (needs clusterctl on PATH).

Objects that already exist on an existing management cluster are left out of the stack
(:func:`split_preexisting`), so removing the bootstrap plane never deletes providers that
were there before the install.
"""

from __future__ import annotations

import shutil
import subprocess
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from ruamel.yaml import YAML
from ruamel.yaml.error import YAMLError

from lattice_pulumi.errors import InstallError, ToolError
from lattice_pulumi.spec.cluster import LatticeCluster

__all__ = [
    "generate_components",
    "identity",
    "load_components",
    "providers_of",
    "split_preexisting",
]

_RKE2 = "rke2"


def identity(obj: Mapping[str, Any]) -> str:
    """``Kind/namespace/name`` of a manifest."""
    meta = obj["metadata"]
    return f"{obj['kind']}/{meta.get('namespace') or ''}/{meta['name']}"


def providers_of(cluster: LatticeCluster) -> list[tuple[str, str]]:
    """``(clusterctl flag, provider name)`` for every provider the cluster needs."""
    flavour = cluster.spec.provider.kubernetes.bootstrap
    name = _RKE2 if flavour == _RKE2 else "kubeadm"
    return [
        ("--core", "cluster-api"),
        ("--bootstrap", name),
        ("--control-plane", name),
        ("--infrastructure", cluster.spec.provider.config.type),
        ("--addon", "helm"),
    ]


def _documents(text: str, source: str) -> list[dict[str, Any]]:
    try:
        documents = list(YAML(typ="safe", pure=True).load_all(text))
    except YAMLError as exc:
        raise InstallError(f"{source}: not YAML: {str(exc).splitlines()[0]}") from None
    result = []
    for number, doc in enumerate(documents, start=1):
        if doc is None:
            continue
        meta = doc.get("metadata") if isinstance(doc, dict) else None
        if not isinstance(meta, dict) or not meta.get("name") or not doc.get("kind"):
            raise InstallError(
                f"{source}: document {number}: expected a Kubernetes object "
                "(apiVersion, kind, metadata.name)"
            )
        result.append(doc)
    return result


def load_components(folder: Path) -> list[dict[str, Any]]:
    """Every object of every YAML file in ``folder``, files in name order."""
    if not folder.is_dir():
        raise InstallError(f"provider components {folder}: expected a folder of YAML files")
    files = sorted([*folder.glob("*.yaml"), *folder.glob("*.yml")])
    if not files:
        raise InstallError(f"provider components {folder}: no *.yaml file in it")
    objects: list[dict[str, Any]] = []
    for path in files:
        objects += _documents(path.read_text(encoding="utf-8"), str(path))
    return objects


def generate_components(
    cluster: LatticeCluster, clusterctl: str | None = None
) -> list[dict[str, Any]]:
    """The providers' components from ``clusterctl generate provider`` (one call each)."""
    command = clusterctl or shutil.which("clusterctl")
    if command is None:
        raise ToolError(
            "clusterctl is not on PATH: install clusterctl (Cluster API), or pass "
            "--provider-components with the providers' manifests"
        )
    objects: list[dict[str, Any]] = []
    for flag, name in providers_of(cluster):
        done = subprocess.run(
            [command, "generate", "provider", flag, name],
            capture_output=True,
            text=True,
            check=False,
            stdin=subprocess.DEVNULL,
        )
        if done.returncode != 0:
            last = (done.stderr.strip().splitlines() or ["no output"])[-1]
            raise ToolError(f"clusterctl generate provider {flag} {name}: {last}")
        objects += _documents(done.stdout, f"clusterctl generate provider {flag} {name}")
    return objects


def split_preexisting(
    objects: Sequence[Mapping[str, Any]], preexisting: Sequence[str]
) -> list[Mapping[str, Any]]:
    """``objects`` without those whose identity is in ``preexisting``."""
    skip = set(preexisting)
    return [obj for obj in objects if identity(obj) not in skip]
