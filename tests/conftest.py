"""Shared fixtures: project paths and the third-party CRD schemas folder."""

from __future__ import annotations

from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = ROOT / "examples"
# ../shared/crd-schemas of the checkout, or of a parent folder (git worktrees under wt/).
CRD_SCHEMAS = next(
    (p / "shared" / "crd-schemas" for p in ROOT.parents if (p / "shared" / "crd-schemas").is_dir()),
    ROOT.parent / "shared" / "crd-schemas",
)


@pytest.fixture
def crd_schemas() -> Path:
    if not CRD_SCHEMAS.is_dir():
        pytest.skip(f"no third-party CRD schemas at {CRD_SCHEMAS} (checkout outside shared/)")
    return CRD_SCHEMAS
