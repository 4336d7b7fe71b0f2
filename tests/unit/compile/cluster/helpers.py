"""Builders for cluster compiler tests: the example clusters, changed one field at a time."""

from __future__ import annotations

from typing import Any

from ruamel.yaml import YAML

from lattice_pulumi.compile.cluster import ClusterCompileContext
from lattice_pulumi.spec import loader
from lattice_pulumi.spec.cluster import LatticeCluster
from lattice_pulumi.spec.providers import CloudProvider
from tests.builders import changed, to_yaml
from tests.conftest import EXAMPLES

PARENT_CA = (
    "-----BEGIN CERTIFICATE-----\n"
    "MIIBkTCB+wIJAKHBfpegPjMCMA0GCSqGSIb3DQEBCwUAMBExDzANBgNVBAMMBnBh\n"
    "-----END CERTIFICATE-----\n"
)
PARENT = ClusterCompileContext(
    bootstrap_endpoint="https://cell.example.com:8443", parent_ca_pem=PARENT_CA
)
EXAMPLE_FILES = {
    "docker": "docker-dev.yaml",
    "aws": "production.yaml",
    "openstack": "openstack.yaml",
    "proxmox": "proxmox-lab.yaml",
}


def example_docs(provider: str) -> tuple[dict[str, Any], dict[str, Any]]:
    """The (LatticeCluster, CloudProvider) documents of a provider's example, as dicts."""
    text = (EXAMPLES / "clusters" / EXAMPLE_FILES[provider]).read_text()
    cluster, cloud = YAML(typ="safe", pure=True).load_all(text)
    return cluster, cloud


def build(
    cluster_doc: dict[str, Any], cloud_doc: dict[str, Any]
) -> tuple[LatticeCluster, CloudProvider]:
    result = loader.load_text(to_yaml(cluster_doc, cloud_doc))
    result.raise_for_errors()
    cluster, cloud = result.resources
    assert isinstance(cluster, LatticeCluster) and isinstance(cloud, CloudProvider)
    return cluster, cloud


def example(
    provider: str, bootstrap: str | None = None, **changes: Any
) -> tuple[LatticeCluster, CloudProvider]:
    """A provider's example cluster, with another bootstrap and dotted-path changes."""
    cluster, cloud = example_docs(provider)
    if bootstrap is not None:
        cluster = changed(cluster, "spec.provider.kubernetes.bootstrap", bootstrap)
    if provider == "aws" and bootstrap == "rke2":
        cluster = changed(cluster, "spec.provider.config.aws.ami", {"id": "ami-0abcdef1234567890"})
    for path, value in changes.items():
        cluster = changed(cluster, path.replace("__", "."), value)
    return build(cluster, cloud)
