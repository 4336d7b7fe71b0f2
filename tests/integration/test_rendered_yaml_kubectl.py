"""The real kubectl reads what ``lattice render`` writes as written.

``lattice render -f examples/ -o DIR`` (every service and cluster of the examples) plus a
child's bootstrap bundle go through ``kubectl apply --server-side --dry-run=server -f DIR``
against the harness API server; kubectl's YAML reader is YAML 1.1 (sigs.k8s.io/yaml), so
an unquoted ``no`` would reach the server as ``false``. The CRDs come first: ours by
``kubectl apply`` of ``lattice crds`` (also read by kubectl), the third-party ones from the
shared schemas. The two RKE2 kinds have no schema there (tests/manifests.NO_SCHEMA): they
get a CRD that keeps every field, so kubectl and the server still read and store them,
without a schema check.
"""

from __future__ import annotations

import json
import os
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from harness.control_plane import ControlPlane
from harness.crds import crd_from_schemas, install_crds, shared_crd
from harness.kube import KubeClient
from harness.tools import require_tools
from ruamel.yaml import YAML
from typer.testing import CliRunner

from lattice_pulumi import pki
from lattice_pulumi.cell import AgentBundles, CellConfig
from lattice_pulumi.cli.main import app
from tests.conftest import EXAMPLES
from tests.manifests import NO_SCHEMA

pytestmark = pytest.mark.integration

runner = CliRunner()
BUILT_IN_GROUPS = {
    "",
    "apps",
    "batch",
    "autoscaling",
    "policy",
    *(
        f"{name}.k8s.io"
        for name in ("networking", "rbac.authorization", "apiextensions", "coordination")
    ),
}


def _lattice(*args: str) -> str:
    result = runner.invoke(app, list(args))
    assert result.exit_code == 0, result.stderr
    return result.stdout


def _objects(folder: Path) -> list[dict[str, Any]]:
    yaml = YAML(typ="safe", pure=True)
    return [
        doc for path in sorted(folder.glob("*.yaml")) for doc in yaml.load_all(path.read_text())
    ]


class Kubectl:
    """The built kubectl against one control plane, with a private cache directory."""

    def __init__(self, binary: Path, plane: ControlPlane, home: Path) -> None:
        self.binary = binary
        self.env = {
            "PATH": os.environ.get("PATH", ""),
            "HOME": str(home),
            "KUBECONFIG": str(plane.kubeconfig_path),
        }

    def __call__(self, *args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [str(self.binary), *args],
            env=self.env,
            capture_output=True,
            text=True,
            timeout=300,
            check=False,
        )


def _third_party_crds(objects: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """A CRD for each custom kind among ``objects``: the shared schema's, or a permissive
    one for the kinds the shared schemas lack (said in the module docstring)."""
    kinds: dict[tuple[str, str], set[str]] = {}
    for obj in objects:
        group, _, version = obj["apiVersion"].rpartition("/")
        if group not in BUILT_IN_GROUPS:
            kinds.setdefault((group, obj["kind"]), set()).add(version)
    assert set(NO_SCHEMA) <= set(kinds)  # the RKE2 examples are rendered, not left out
    keep_all = {"type": "object", "x-kubernetes-preserve-unknown-fields": True}
    return [
        crd_from_schemas(group, kind, dict.fromkeys(versions, keep_all))
        if (group, kind) in NO_SCHEMA
        else shared_crd(group, kind)
        for (group, kind), versions in sorted(kinds.items())
    ]


def _dry_run_items(stdout: str) -> list[dict[str, Any]]:
    """kubectl -o json prints a List, or one JSON object after another."""
    decoder = json.JSONDecoder()
    items: list[dict[str, Any]] = []
    position = 0
    text = stdout.strip()
    while position < len(text):
        obj, position = decoder.raw_decode(text, position)
        items += obj["items"] if obj.get("kind") == "List" else [obj]
        while position < len(text) and text[position].isspace():
            position += 1
    return items


@pytest.fixture(scope="module")
def kubectl(control_plane: ControlPlane, tmp_path_factory: pytest.TempPathFactory) -> Kubectl:
    tools = require_tools("kubectl")
    return Kubectl(tools["kubectl"].path(), control_plane, tmp_path_factory.mktemp("kube-home"))


@pytest.fixture(scope="module")
def rendered(
    kube: KubeClient, kubectl: Kubectl, crd_schemas: Path, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Path]:
    out = tmp_path_factory.mktemp("rendered")
    _lattice("render", "-f", str(EXAMPLES), "-o", str(out))
    bundles = AgentBundles(
        CellConfig(name="root"),
        pki.CellAuthority(pki.CertificateAuthority.create("root", curve="P-256")),
        lambda: "cell.example.com:50051",
    )
    bundle = bundles.render("dev", "https://cell.example.com:8443/v1/enrol")
    (out / "zz_bootstrap-bundle_dev.yaml").write_text(bundle, encoding="utf-8")

    crds_file = tmp_path_factory.mktemp("crds") / "lattice-crds.yaml"
    crds_file.write_text(_lattice("crds"), encoding="utf-8")
    for args in (
        ("apply", "--server-side", "--force-conflicts", "-f", str(crds_file)),
        ("wait", "--for=condition=Established", "--timeout=60s", "-f", str(crds_file)),
    ):
        done = kubectl(*args)
        assert done.returncode == 0, done.stderr

    objects = _objects(out)
    install_crds(kube, _third_party_crds(objects))
    for name in sorted({o["metadata"].get("namespace") for o in objects} - {None}):
        kube.apply({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": name}})
    yield out


@pytest.fixture(scope="module")
def dry_run(kubectl: Kubectl, rendered: Path) -> list[dict[str, Any]]:
    """What the server answered to the dry run of the whole folder (kubectl must succeed)."""
    done = kubectl(
        "apply",
        "--server-side",
        "--force-conflicts",  # other tests of the session may own some of these fields
        "--dry-run=server",
        "-f",
        str(rendered),
        "-o",
        "json",
    )
    assert done.returncode == 0, done.stderr
    return _dry_run_items(done.stdout)


def test_kubectl_server_side_dry_run_accepts_every_rendered_file(
    dry_run: list[dict[str, Any]], rendered: Path
) -> None:
    assert len(dry_run) == len(_objects(rendered)) > 100
    by_ident = {_ident(o): o for o in dry_run}
    redis = by_ident[("Deployment", "webapp", "redis")]
    args = redis["spec"]["template"]["spec"]["containers"][0]["args"]
    assert args[args.index("--appendonly") + 1] == "no"  # the string, not false
    assert any(ident[1] == "lattice-system" for ident in by_ident)  # the bundle went too


def test_no_rendered_value_comes_back_with_another_type(
    dry_run: list[dict[str, Any]], rendered: Path
) -> None:
    """What ruamel (YAML 1.2) reads from each file is what kubectl (YAML 1.1) sent: no string
    became a bool, number or null, no number or bool changed, no field was dropped."""
    returned = {_ident(o): o for o in dry_run}
    problems = [
        f"{' '.join(_ident(obj))}: {path}"
        for obj in _objects(rendered)
        for path in _differences(obj, returned[_ident(obj)])
    ]
    assert problems == []


def _ident(obj: dict[str, Any]) -> tuple[str, str, str]:
    meta = obj["metadata"]
    return (obj["kind"], meta.get("namespace") or "", meta["name"])


def _differences(sent: Any, stored: Any, path: str = "") -> Iterator[str]:
    """Paths where a rendered value and the server's differ in type, or in value for
    numbers and bools. Server additions (defaults) are not differences, nor strings the
    server normalises (quantities such as ``0.5`` -> ``500m``)."""
    if isinstance(sent, dict):
        if not isinstance(stored, dict):
            yield path
            return
        for key, value in sent.items():
            if key in stored:
                yield from _differences(value, stored[key], f"{path}.{key}")
            elif value not in (None, {}, []):
                yield f"{path}.{key} (dropped)"
    elif isinstance(sent, list):
        if not isinstance(stored, list) or len(stored) != len(sent):
            yield path
            return
        for index, (a, b) in enumerate(zip(sent, stored, strict=True)):
            yield from _differences(a, b, f"{path}[{index}]")
    elif not _same_scalar(sent, stored):
        yield f"{path}: {sent!r} came back as {stored!r}"


def _same_scalar(sent: Any, stored: Any) -> bool:
    if isinstance(sent, str) or isinstance(stored, str):
        return isinstance(sent, str) and isinstance(stored, str)
    if isinstance(sent, bool) or isinstance(stored, bool) or sent is None or stored is None:
        return sent is stored
    return bool(sent == stored)  # 2 and 2.0 are the same number in JSON
