"""Options shared by commands that compile services: ``--provisioners`` and ``--strict``.

``--provisioners FILE|DIR`` (repeatable) loads Score resource provisioner files ahead of the
built-in set; ``--strict`` turns warnings (a resource type nobody provisions, deprecated
Score forms) into errors. Used by ``render``, ``validate`` and ``mesh``.
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from typing import Annotated

import typer

from lattice_pulumi.spec import loader, provisioners
from lattice_pulumi.spec.provisioners import Provisioner

__all__ = ["ProvisionersOption", "StrictOption", "load_provisioners", "load_specs"]

ProvisionersOption = Annotated[
    list[Path] | None,
    typer.Option(
        "--provisioners",
        help="Score resource provisioner file or folder (repeatable), matched before the "
        "built-in set.",
    ),
]
StrictOption = Annotated[
    bool, typer.Option("--strict", help="Treat warnings (unprovisioned resource types) as errors.")
]


def load_provisioners(paths: list[Path] | None) -> list[Provisioner]:
    """User provisioners then the built-in set (raises SpecErrors for a bad file)."""
    return provisioners.load_provisioners(paths or [])


def load_specs(
    paths: list[Path], entries: list[Provisioner], *, strict: bool
) -> loader.LoadResult:
    """Load specs knowing which resource types ``entries`` serve; ``strict`` makes warnings
    errors."""
    result = loader.load_paths(paths, provisioned=provisioners.provisioned_types(entries))
    if strict and result.warnings:
        result.errors += [replace(w, warning=False) for w in result.warnings]
        result.warnings = []
    return result
