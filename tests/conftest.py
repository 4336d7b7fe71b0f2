"""Shared fixtures: project paths and the third-party CRD schemas.

The schemas come from the project's own build first: ``scripts/fetch-crds`` takes the CRDs
at the versions pinned in ``scripts/tools.versions`` from the Go modules that ship them
into ``$LATTICE_TOOLS_DIR/crd-schemas`` (default ``~/.cache/lattice/tools``). A kind missing
there (its module is not served) is looked up in ``../shared/crd-schemas``, the fallback.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = ROOT / "examples"
# LATTICE_CRD_SCHEMAS overrides the fallback's place (a git worktree is not next to ../shared).
SHARED_CRD_SCHEMAS = Path(
    os.environ.get("LATTICE_CRD_SCHEMAS") or ROOT.parent / "shared" / "crd-schemas"
)


def fetched_crd_schemas() -> Path:
    """Where ``scripts/fetch-crds`` keeps the schemas it converted."""
    tools = os.environ.get("LATTICE_TOOLS_DIR") or str(Path.home() / ".cache/lattice/tools")
    return Path(tools) / "crd-schemas"


def crd_schema_dirs() -> list[Path]:
    """The schema folders to search, in order: the fetched cache, then ../shared."""
    fetched = fetched_crd_schemas()
    dirs = [fetched] if (fetched / ".stamp").is_file() else []
    return dirs + ([SHARED_CRD_SCHEMAS] if SHARED_CRD_SCHEMAS.is_dir() else [])


def crd_schema_file(group: str, kind: str, version: str) -> Path | None:
    """The JSON schema of one kind and version, from the first folder that has it."""
    name = f"{kind.lower()}_{version}.json"
    return next((d / group / name for d in crd_schema_dirs() if (d / group / name).is_file()), None)


@pytest.fixture
def crd_schemas() -> Path:
    dirs = crd_schema_dirs()
    if not dirs:
        pytest.skip(
            f"no third-party CRD schemas: run scripts/fetch-crds (or put {SHARED_CRD_SCHEMAS})"
        )
    return dirs[0]
