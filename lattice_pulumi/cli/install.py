"""``lattice install`` and ``lattice uninstall``: the phase plan of a self-managing cluster.

``lattice install -f cluster.yaml --dry-run`` prints every phase with what it does for
the cluster (providers, object count, machines, add-on waves) and the saved progress, if
an earlier run was interrupted (``stacks/<cluster>/install-progress.json``).
``lattice uninstall -k kubeconfig --dry-run`` prints the reverse phases. Running the phases
needs the Lattice operator (issue 16) and a bootstrap plane provider, which this build does
not have: without ``--dry-run`` both commands say so and change nothing.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from lattice_pulumi.cli import output
from lattice_pulumi.errors import InstallError, LatticeError, SpecError, SpecErrors
from lattice_pulumi.install import UNINSTALL_PHASES, Progress, plan_install, spec_digest
from lattice_pulumi.spec import loader
from lattice_pulumi.spec.base import dump_canonical
from lattice_pulumi.spec.cluster import LatticeCluster
from lattice_pulumi.spec.providers import CloudProvider

__all__ = ["install", "progress_path", "register", "uninstall"]

_NOT_YET = (
    "running the phases needs the Lattice operator and a bootstrap plane provider, "
    "which this build does not have: use --dry-run to see the plan"
)


def _cluster_and_cloud(path: Path) -> tuple[LatticeCluster, CloudProvider]:
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


def progress_path(stacks_dir: Path, cluster: str, operation: str) -> Path:
    return stacks_dir / cluster / f"{operation}-progress.json"


def install(
    filename: Annotated[Path, typer.Option("-f", "--filename", help="LatticeCluster file.")],
    dry_run: Annotated[bool, typer.Option("--dry-run", help="Print the plan only.")] = False,
    stacks_dir: Annotated[
        Path, typer.Option("--stacks-dir", help="Where progress is kept.")
    ] = Path("stacks"),
    restart: Annotated[
        bool, typer.Option("--restart", help="Ignore saved progress of an earlier run.")
    ] = False,
) -> None:
    """Bring up a self-managing cluster from a LatticeCluster file (phases in order)."""
    try:
        cluster, cloud = _cluster_and_cloud(filename)
        path = progress_path(stacks_dir, cluster.name, "install")
        digest = spec_digest(dump_canonical(cluster))
        progress = Progress.open(path, "install", digest, restart=restart)
        if not dry_run:
            raise InstallError(_NOT_YET)
    except LatticeError as exc:
        output.fail(exc)
    output.out.print(f"install plan for cluster {output.escape(cluster.name)}:")
    for number, step in enumerate(plan_install(cluster, cloud), start=1):
        state = " (done)" if step.phase.name in progress.done else ""
        state = " (interrupted: runs again)" if step.phase.name == progress.running else state
        output.out.print(f"{number}. {step.phase.name}: {step.phase.title}{state}")
        for detail in step.details:
            output.out.print(f"     {output.escape(detail)}")


def uninstall(
    kubeconfig: Annotated[
        Path, typer.Option("-k", "--kubeconfig", help="The cluster's kubeconfig.")
    ],
    dry_run: Annotated[bool, typer.Option("--dry-run", help="Print the plan only.")] = False,
) -> None:
    """Reverse an install: pivot back to a bootstrap plane, delete the cluster, clean up."""
    try:
        if not kubeconfig.is_file():
            raise InstallError(f"kubeconfig {kubeconfig} does not exist: expected a file")
        if not dry_run:
            raise InstallError(_NOT_YET)
    except LatticeError as exc:
        output.fail(exc)
    output.out.print(f"uninstall plan for the cluster of {output.escape(str(kubeconfig))}:")
    for number, phase in enumerate(UNINSTALL_PHASES, start=1):
        output.out.print(f"{number}. {phase.name}: {phase.title}")


def register(app: typer.Typer) -> None:
    app.command("install")(install)
    app.command("uninstall")(uninstall)
