"""Find the tools that ``scripts/build-tools`` built, and skip or fail when one is missing.

Versions come from ``scripts/tools.versions`` (KEY=VALUE lines); each tool lives in
``$LATTICE_TOOLS_DIR/<tool>-<version>/`` (default ``~/.cache/lattice/tools``). Outside CI a
missing tool skips the test with one line saying how to build it; with ``CI`` set it fails.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import pytest

PROJECT_ROOT = Path(__file__).resolve().parents[3]
VERSIONS_FILE = PROJECT_ROOT / "scripts" / "tools.versions"

# tool name -> (key of its version in tools.versions, binaries it provides)
TOOLS: dict[str, tuple[str, tuple[str, ...]]] = {
    "etcd": ("ETCD_VERSION", ("etcd",)),
    "kube-apiserver": ("KUBERNETES_VERSION", ("kube-apiserver",)),
    "kube-controller-manager": ("KUBERNETES_VERSION", ("kube-controller-manager",)),
    "kubectl": ("KUBERNETES_VERSION", ("kubectl",)),
    "clusterctl": ("CLUSTER_API_VERSION", ("clusterctl",)),
    # The Cluster API core manager (core/main.go) and, in crds/, the CRDs it serves.
    "cluster-api-manager": ("CLUSTER_API_VERSION", ("cluster-api-manager",)),
    "pulumi": ("PULUMI_VERSION", ("bin/pulumi", "bin/pulumi-resource-pulumi-python")),
    "pulumi-resource-kubernetes": ("PULUMI_KUBERNETES_VERSION", ("pulumi-resource-kubernetes",)),
    "pulumi-language-python": (
        "PULUMI_LANGUAGE_PYTHON_VERSION",
        ("pulumi-language-python", "pulumi-language-python-exec"),
    ),
    "pulumi-language-yaml": ("PULUMI_YAML_VERSION", ("pulumi-language-yaml",)),
    # The kubelet's streaming endpoints over local processes (no container runtime here).
    "kubelet-standin": ("KUBERNETES_VERSION", ("kubelet-standin",)),
}


def read_versions(path: Path = VERSIONS_FILE) -> dict[str, str]:
    """Parse the KEY=VALUE lines of ``scripts/tools.versions`` (comments and blanks skipped)."""
    versions: dict[str, str] = {}
    for raw in path.read_text().splitlines():
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        key, sep, value = line.partition("=")
        if sep:
            versions[key.strip()] = value.strip().strip("'\"")
    return versions


def tools_root() -> Path:
    """The directory that holds every built tool."""
    configured = os.environ.get("LATTICE_TOOLS_DIR")
    return Path(configured) if configured else Path.home() / ".cache" / "lattice" / "tools"


@dataclass(frozen=True)
class Tool:
    """One built tool: its directory and the binaries expected in it."""

    name: str
    version: str
    directory: Path
    binaries: tuple[str, ...]

    def is_built(self) -> bool:
        """Whether build-tools finished this tool (its stamp and binaries are there)."""
        return (self.directory / ".stamp").is_file() and all(
            os.access(self.directory / binary, os.X_OK) for binary in self.binaries
        )

    def path(self, binary: str | None = None) -> Path:
        """Absolute path of one of the tool's binaries (its first by default)."""
        return self.directory / (binary or self.binaries[0])


def tool(name: str) -> Tool:
    """Describe a tool by name, whether built or not."""
    key, binaries = TOOLS[name]
    version = read_versions()[key]
    tag = version if version.startswith("v") else f"v{version}"
    return Tool(name, version, tools_root() / f"{name}-{tag}", binaries)


def in_ci() -> bool:
    """CI sets CI=true; there a missing tool is a failure, not a skip."""
    return os.environ.get("CI", "").strip().lower() not in ("", "0", "false", "no")


def require_tools(*names: str) -> dict[str, Tool]:
    """Return the named tools, or skip (fail under CI) with one line on how to build them."""
    tools = {name: tool(name) for name in names}
    missing = [t for t in tools.values() if not t.is_built()]
    if missing:
        listed = ", ".join(f"{t.name} {t.version}" for t in missing)
        message = (
            f"integration tools not built ({listed} under {tools_root()}): run scripts/build-tools"
        )
        if in_ci():
            pytest.fail(message, pytrace=False)
        pytest.skip(message)
    return tools
