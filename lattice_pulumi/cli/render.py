"""``lattice render``: compile the services and clusters found into manifests (stdout or a folder).

Everything is compiled before anything is written, so an error leaves no partial output.
CedarPolicy documents among the inputs (and ``--policies``) feed the authorizer. Each
LatticeCluster is compiled into its Cluster API objects with the CloudProvider its
``providerRef`` names (which must be among the inputs); ``--parent-endpoint`` and
``--parent-ca`` add the bootstrap step a child runs against its parent. ``--plan`` prints
each cluster's add-on plan as a table instead of manifests.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer
from rich.table import Table

from lattice_pulumi.cli import output
from lattice_pulumi.compile.cluster import (
    Addon,
    ClusterCompileContext,
    compile_cluster,
    plan_addons,
)
from lattice_pulumi.compile.context import ClusterInfo, CompileContext
from lattice_pulumi.compile.service import compile_service
from lattice_pulumi.errors import CompileError, LatticeError, SpecError, SpecErrors
from lattice_pulumi.policy import CedarAuthorizer
from lattice_pulumi.policy.sources import sources_in
from lattice_pulumi.spec import loader, yamlout
from lattice_pulumi.spec.cluster import LatticeCluster
from lattice_pulumi.spec.meta import Resource
from lattice_pulumi.spec.providers import CloudProvider
from lattice_pulumi.spec.service import LatticeService

__all__ = ["register"]


def _load(paths: list[Path]) -> list[Resource]:
    result = loader.load_paths(paths)
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
    authorizer = CedarAuthorizer()
    report = authorizer.reload(sources_in(resources))
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
    parent_endpoint: Annotated[
        str | None,
        typer.Option("--parent-endpoint", help="Parent bootstrap URL for LatticeClusters."),
    ] = None,
    parent_ca: Annotated[
        Path | None, typer.Option("--parent-ca", help="PEM CA bundle of the parent.")
    ] = None,
    plan: Annotated[
        bool, typer.Option("--plan", help="Print each LatticeCluster's add-on plan.")
    ] = False,
) -> None:
    """Compile every LatticeService and LatticeCluster found into Kubernetes manifests."""
    try:
        resources = _load([*filename, *(policies or [])])
        if plan:
            _print_plans(resources)
            return
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
        cluster_context = _cluster_context(parent_endpoint, parent_ca)
        for resource in resources:
            if isinstance(resource, LatticeCluster):
                compiled = compile_cluster(
                    resource, _cloud_provider(resource, resources), cluster_context
                )
                objects += compiled
                summary.append(f"cluster {resource.name}: {len(compiled)} Cluster API objects")
    except LatticeError as exc:
        output.fail(exc)
    _write(objects, out_dir)
    for line in summary:
        output.err.print(line)


def _cluster_context(endpoint: str | None, ca_file: Path | None) -> ClusterCompileContext:
    if endpoint is None and ca_file is None:
        return ClusterCompileContext()
    if endpoint is None or ca_file is None:
        raise CompileError("--parent-endpoint and --parent-ca go together")
    try:
        pem = ca_file.read_text(encoding="utf-8")
    except OSError as exc:
        raise CompileError(f"cannot read --parent-ca {ca_file}: {exc.strerror}") from exc
    return ClusterCompileContext(bootstrap_endpoint=endpoint, parent_ca_pem=pem)


def _cloud_provider(cluster: LatticeCluster, resources: list[Resource]) -> CloudProvider:
    wanted = cluster.spec.provider_ref
    found = [r for r in resources if isinstance(r, CloudProvider) and r.name == wanted]
    if len(found) != 1:
        problem = "is not among the loaded documents" if not found else "is defined twice"
        raise CompileError(
            f"CloudProvider '{wanted}' {problem}: pass its file with -f",
            subject=f"cluster {cluster.name}",
            path=("spec", "providerRef"),
        )
    return found[0]


def format_plan(cluster: LatticeCluster, plan: list[Addon]) -> Table:
    """The add-on plan of one cluster as a rich table."""
    table = Table(title=f"add-ons of cluster {cluster.name}")
    table.add_column("add-on", overflow="fold")
    table.add_column("chart", overflow="fold")
    table.add_column("version", no_wrap=True, min_width=8)
    table.add_column("namespace", overflow="fold")
    table.add_column("reason", ratio=1)
    for addon in plan:
        chart = addon.chart if addon.is_chart else "(manifests)" if addon.repo else "(Lattice)"
        table.add_row(addon.name, chart, addon.version, addon.namespace or "-", addon.reason)
    return table


def _print_plans(resources: list[Resource]) -> None:
    clusters = [r for r in resources if isinstance(r, LatticeCluster)]
    if not clusters:
        raise CompileError("--plan needs a LatticeCluster among the inputs")
    for cluster in clusters:
        output.out.print(format_plan(cluster, plan_addons(cluster)))


def _split_image(text: str) -> tuple[str, str]:
    name, sep, value = text.partition("=")
    return (name, value) if sep and "/" not in name and ":" not in name else ("*", text)


def _write(objects: list[dict[str, Any]], out_dir: Path | None) -> None:
    if out_dir is None:
        output.out.print(yamlout.dump_all(objects), end="", markup=False, highlight=False)
        return
    out_dir.mkdir(parents=True, exist_ok=True)
    for obj in objects:
        (out_dir / _file_name(obj)).write_text(yamlout.dump_all([obj]), encoding="utf-8")


def register(app: typer.Typer) -> None:
    app.command("render")(render)
