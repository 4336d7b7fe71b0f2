"""``lattice install`` and ``lattice uninstall``: a self-managing cluster, and back.

``lattice install -f cluster.yaml`` runs the phases of ``lattice_pulumi.install`` in order:
bootstrap plane (a kind cluster, or ``--bootstrap-kubeconfig`` of an existing management
cluster), Cluster API providers and the operator, the LatticeCluster, machines ready,
add-ons, pivot, bootstrap plane removed. Progress is saved after every phase in
``stacks/<cluster>/install-progress.json``; running the command again continues where a
run stopped (checking the last phase done first). ``--dry-run`` prints the plan and the
saved progress and writes nothing. The new cluster's kubeconfig is left in
``stacks/<cluster>/kubeconfig`` (0600), with a copy of the cluster file beside it.

``lattice uninstall -k kubeconfig`` reverses it: bootstrap plane, pivot back, delete the
cluster through Cluster API, remove the bootstrap plane (``uninstall-progress.json``).
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Annotated

import typer

from lattice_pulumi.cli import output
from lattice_pulumi.cli.install_run import ConsoleReporter, make_context, provider_components, run
from lattice_pulumi.compile.cluster.objects import capi_namespace
from lattice_pulumi.errors import InstallError, LatticeError, SpecError, SpecErrors
from lattice_pulumi.install import (
    INSTALL_PHASES,
    UNINSTALL_PHASES,
    Progress,
    cluster_state,
    plan_install,
    spec_digest,
)
from lattice_pulumi.install.bootstrap import find_kind
from lattice_pulumi.install.context import write_private
from lattice_pulumi.install.flow import install_actions, uninstall_actions
from lattice_pulumi.install.readiness import CAPI
from lattice_pulumi.spec import loader
from lattice_pulumi.spec.base import dump_canonical
from lattice_pulumi.spec.cluster import LatticeCluster
from lattice_pulumi.spec.providers import CloudProvider

__all__ = ["install", "progress_path", "register", "uninstall"]

_CLUSTER_FILE = "cluster.yaml"
_TARGET_FILE = "uninstall-target.json"

BootstrapOption = Annotated[
    Path | None,
    typer.Option(
        "--bootstrap-kubeconfig",
        help="An existing management cluster as the bootstrap plane (default: kind).",
    ),
]
ComponentsOption = Annotated[
    Path | None,
    typer.Option(
        "--provider-components",
        help="Folder of Cluster API provider manifests (default: clusterctl generate provider).",
    ),
]
StacksOption = Annotated[
    Path, typer.Option("--stacks-dir", help="Where stacks and progress are kept.")
]
SkipAwaitOption = Annotated[
    bool,
    typer.Option(
        "--skip-await", help="Do not wait for Deployments to roll out (a plane that runs no pods)."
    ),
]
TimeoutOption = Annotated[
    float, typer.Option("--timeout", help="Seconds to wait for machines or deletion.")
]


def _cluster_and_cloud(path: Path) -> tuple[LatticeCluster, CloudProvider]:
    if not path.is_file():
        raise InstallError(
            f"cluster file {path} does not exist: expected a LatticeCluster YAML file"
        )
    result = loader.load_paths([path])
    result.raise_for_errors()
    clusters = [r for r in result.resources if isinstance(r, LatticeCluster)]
    clouds = [r for r in result.resources if isinstance(r, CloudProvider)]
    if len(clusters) != 1:
        problem = f"expected one LatticeCluster, found {len(clusters)}"
        raise SpecErrors.of([SpecError(problem, (), str(path))])
    cluster = clusters[0]
    wanted = [c for c in clouds if c.name == cluster.spec.provider_ref]
    if len(wanted) != 1:
        problem = f"expected the CloudProvider '{cluster.spec.provider_ref}' in the same file"
        raise SpecErrors.of([SpecError(problem, ("spec", "providerRef"), str(path))])
    return cluster, wanted[0]


def _check_plane(bootstrap_kubeconfig: Path | None) -> None:
    """Before anything is written: kind is there, or the given plane answers."""
    if bootstrap_kubeconfig is None:
        find_kind()
    else:
        cluster_state.require_reachable(bootstrap_kubeconfig, "bootstrap kubeconfig")


def progress_path(stacks_dir: Path, cluster: str, operation: str) -> Path:
    return stacks_dir / cluster / f"{operation}-progress.json"


def _print_plan(cluster: LatticeCluster, cloud: CloudProvider, progress: Progress) -> None:
    output.out.print(f"install plan for cluster {output.escape(cluster.name)}:")
    for number, step in enumerate(plan_install(cluster, cloud), start=1):
        state = " (done)" if step.phase.name in progress.done else ""
        state = " (interrupted: runs again)" if step.phase.name == progress.running else state
        output.out.print(f"{number}. {step.phase.name}: {step.phase.title}{state}")
        for detail in step.details:
            output.out.print(f"     {output.escape(detail)}")


def install(
    filename: Annotated[Path, typer.Option("-f", "--filename", help="LatticeCluster file.")],
    dry_run: Annotated[bool, typer.Option("--dry-run", help="Print the plan only.")] = False,
    stacks_dir: StacksOption = Path("stacks"),
    restart: Annotated[
        bool, typer.Option("--restart", help="Ignore saved progress of an earlier run.")
    ] = False,
    bootstrap_kubeconfig: BootstrapOption = None,
    provider_components_dir: ComponentsOption = None,
    timeout: TimeoutOption = 1800.0,
    skip_await: SkipAwaitOption = False,
) -> None:
    """Bring up a self-managing cluster from a LatticeCluster file (phases in order)."""
    try:
        cluster, cloud = _cluster_and_cloud(filename)
        folder = stacks_dir / cluster.name
        digest = spec_digest(dump_canonical(cluster))
        progress = Progress.open(
            progress_path(stacks_dir, cluster.name, "install"), "install", digest, restart=restart
        )
        if dry_run:
            _print_plan(cluster, cloud, progress)
            return
        _check_plane(bootstrap_kubeconfig)
        components = provider_components(cluster, provider_components_dir)
        reporter = ConsoleReporter(INSTALL_PHASES)
        ctx = make_context(
            cluster=cluster,
            namespace=capi_namespace(cluster),
            folder=folder,
            bootstrap_kubeconfig=bootstrap_kubeconfig,
            components=components,
            reporter=reporter,
            timeout=timeout,
            skip_await=skip_await,
        )
        folder.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(filename, folder / _CLUSTER_FILE)
        run(
            INSTALL_PHASES,
            install_actions(ctx, folder / _CLUSTER_FILE, cluster),
            progress,
            reporter,
        )
    except LatticeError as exc:
        output.fail(exc)
    output.out.print(
        f"cluster {output.escape(cluster.name)} manages itself; kubeconfig: "
        f"{output.escape(str(ctx.kubeconfig))}"
    )


def _server(kubeconfig: Path) -> str:
    cluster_state.require_reachable(kubeconfig, "kubeconfig")
    return kubeconfig.resolve().as_posix()


def _target(kubeconfig: Path, stacks_dir: Path) -> tuple[str, str]:
    """``(cluster, namespace)`` the kubeconfig's cluster manages, or the saved target of an
    uninstall that already moved them away."""
    clusters = cluster_state.list_in(kubeconfig, CAPI, "Cluster")
    if len(clusters) == 1:
        meta = clusters[0]["metadata"]
        return meta["name"], meta["namespace"]
    key = kubeconfig.resolve().as_posix()
    for saved in sorted(stacks_dir.glob(f"*/{_TARGET_FILE}")):
        data = json.loads(saved.read_text(encoding="utf-8"))
        if data.get("kubeconfig") == key:
            return data["cluster"], data["namespace"]
    found = f"{len(clusters)} Clusters" if clusters else "no Cluster"
    raise InstallError(f"kubeconfig {kubeconfig}: expected one Cluster API Cluster, found {found}")


def uninstall(
    kubeconfig: Annotated[
        Path, typer.Option("-k", "--kubeconfig", help="The cluster's kubeconfig.")
    ],
    dry_run: Annotated[bool, typer.Option("--dry-run", help="Print the plan only.")] = False,
    stacks_dir: StacksOption = Path("stacks"),
    bootstrap_kubeconfig: BootstrapOption = None,
    provider_components_dir: ComponentsOption = None,
    timeout: TimeoutOption = 1800.0,
    skip_await: SkipAwaitOption = False,
) -> None:
    """Reverse an install: pivot back to a bootstrap plane, delete the cluster, clean up."""
    try:
        if not kubeconfig.is_file():
            raise InstallError(f"kubeconfig {kubeconfig} does not exist: expected a file")
        if dry_run:
            output.out.print(f"uninstall plan for the cluster of {output.escape(str(kubeconfig))}:")
            for number, phase in enumerate(UNINSTALL_PHASES, start=1):
                output.out.print(f"{number}. {phase.name}: {phase.title}")
            return
        key = _server(kubeconfig)
        _check_plane(bootstrap_kubeconfig)
        name, namespace = _target(kubeconfig, stacks_dir)
        folder = stacks_dir / name
        cluster, _ = _cluster_and_cloud(folder / _CLUSTER_FILE)
        write_private(
            folder / _TARGET_FILE,
            json.dumps({"kubeconfig": key, "cluster": name, "namespace": namespace}),
        )
        digest = spec_digest({"uninstall": name, "namespace": namespace, "kubeconfig": key})
        progress = Progress.open(progress_path(stacks_dir, name, "uninstall"), "uninstall", digest)
        components = provider_components(cluster, provider_components_dir)
        reporter = ConsoleReporter(UNINSTALL_PHASES)
        ctx = make_context(
            cluster=cluster,
            namespace=namespace,
            folder=folder,
            bootstrap_kubeconfig=bootstrap_kubeconfig,
            components=components,
            reporter=reporter,
            timeout=timeout,
            skip_await=skip_await,
        )
        run(UNINSTALL_PHASES, uninstall_actions(ctx, kubeconfig.resolve()), progress, reporter)
    except LatticeError as exc:
        output.fail(exc)
    output.out.print(f"cluster {output.escape(name)} deleted; bootstrap plane removed")


def register(app: typer.Typer) -> None:
    app.command("install")(install)
    app.command("uninstall")(uninstall)
