"""``lattice render``: compile every service found into manifests (stdout or a folder).

Everything is compiled before anything is written, so an error leaves no partial output.
CedarPolicy documents among the inputs (and ``--policies``) feed the authorizer.
"""

from __future__ import annotations

import io
from pathlib import Path
from typing import Annotated, Any

import typer
from ruamel.yaml import YAML

from lattice_pulumi.cli import output
from lattice_pulumi.compile.context import ClusterInfo, CompileContext
from lattice_pulumi.compile.service import compile_service
from lattice_pulumi.errors import LatticeError, SpecError, SpecErrors
from lattice_pulumi.policy import CedarAuthorizer, PolicySource
from lattice_pulumi.policy.sources import source_from_policy
from lattice_pulumi.spec import loader
from lattice_pulumi.spec.cluster import LatticeCluster
from lattice_pulumi.spec.meta import Resource
from lattice_pulumi.spec.policy import CedarPolicy
from lattice_pulumi.spec.service import LatticeService

__all__ = ["dump_yaml", "register"]


def dump_yaml(objects: list[dict[str, Any]]) -> str:
    """A multi-document YAML stream, keys in the order the compiler wrote them."""
    yaml = YAML(typ="rt")
    yaml.default_flow_style = False
    yaml.width = 4096
    stream = io.StringIO()
    yaml.dump_all(objects, stream)
    return stream.getvalue()


def _load(paths: list[Path]) -> list[Resource]:
    result = loader.LoadResult()
    for path in paths:
        one = loader.load_documents(path)
        result.resources += one.resources
        result.errors += one.errors
        result.warnings += one.warnings
    for warning in result.warnings:
        output.print_spec_errors_line(warning)
    result.raise_for_errors()
    return result.resources


def _cluster_info(path: Path | None) -> ClusterInfo:
    if path is None:
        return ClusterInfo()
    clusters = [r for r in _load([path]) if isinstance(r, LatticeCluster)]
    if len(clusters) != 1:
        raise SpecErrors.of(
            [SpecError(f"expected one LatticeCluster, found {len(clusters)}", (), str(path))]
        )
    return ClusterInfo.from_cluster(clusters[0])


def _authorizer(resources: list[Resource]) -> CedarAuthorizer:
    sources: list[PolicySource] = [
        source_from_policy(r) for r in resources if isinstance(r, CedarPolicy)
    ]
    authorizer = CedarAuthorizer()
    report = authorizer.reload(sources)
    for problem in report.problems:
        output.err.print(f"[yellow]warning[/yellow] policy {output.escape(str(problem))} (skipped)")
    return authorizer


def _file_name(obj: dict[str, Any]) -> str:
    meta = obj["metadata"]
    prefix = f"{meta['namespace']}_" if meta.get("namespace") else ""
    return f"{prefix}{obj['kind'].lower()}_{meta['name']}.yaml"


def render(
    filename: Annotated[
        list[Path], typer.Option("-f", "--filename", help="Spec file or folder (repeatable).")
    ],
    cluster: Annotated[
        Path | None, typer.Option("--cluster", help="LatticeCluster file: the target cluster.")
    ] = None,
    policies: Annotated[
        list[Path] | None, typer.Option("--policies", help="CedarPolicy files or folders.")
    ] = None,
    image: Annotated[
        list[str] | None,
        typer.Option("--image", help='CONTAINER=IMAGE (or IMAGE) for containers with image ".".'),
    ] = None,
    out_dir: Annotated[
        Path | None, typer.Option("-o", "--output-dir", help="Write one file per object here.")
    ] = None,
) -> None:
    """Compile every LatticeService found into Kubernetes manifests."""
    try:
        resources = _load([*filename, *(policies or [])])
        info = _cluster_info(cluster)
        images = dict(_split_image(i) for i in image or [])
        context = CompileContext.of(
            list(resources), cluster=info, authorizer=_authorizer(resources), images=images
        )
        objects: list[dict[str, Any]] = []
        summary = []
        for resource in resources:
            if isinstance(resource, LatticeService):
                compiled = compile_service(resource, context)
                objects += compiled
                summary.append(f"{resource.namespace}/{resource.name}: {len(compiled)} objects")
    except LatticeError as exc:
        output.fail(exc)
    _write(objects, out_dir)
    for line in summary:
        output.err.print(line)


def _split_image(text: str) -> tuple[str, str]:
    name, sep, value = text.partition("=")
    return (name, value) if sep and "/" not in name and ":" not in name else ("*", text)


def _write(objects: list[dict[str, Any]], out_dir: Path | None) -> None:
    if out_dir is None:
        output.out.print(dump_yaml(objects), end="", markup=False, highlight=False)
        return
    out_dir.mkdir(parents=True, exist_ok=True)
    for obj in objects:
        (out_dir / _file_name(obj)).write_text(dump_yaml([obj]), encoding="utf-8")


def register(app: typer.Typer) -> None:
    app.command("render")(render)
