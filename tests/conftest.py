"""Shared fixtures: project paths and the third-party CRD schemas folder."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = ROOT / "examples"
CRD_SCHEMAS = Path(os.environ.get("LATTICE_CRD_SCHEMAS") or ROOT.parent / "shared" / "crd-schemas")


@pytest.fixture
def crd_schemas() -> Path:
    if not CRD_SCHEMAS.is_dir():
        pytest.skip(f"no third-party CRD schemas at {CRD_SCHEMAS} (checkout outside shared/)")
    return CRD_SCHEMAS
