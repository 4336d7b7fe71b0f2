"""The committed protobuf/gRPC stubs equal a fresh generation from proto/ (stale stubs fail).

Runs scripts/gen-proto into a temporary directory; fix a failure with ``scripts/gen-proto``.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[3]
GENERATED = ["agent_pb2.py", "agent_pb2.pyi", "agent_pb2_grpc.py"]
PACKAGE_DIR = Path("lattice_pulumi/protocol/gen")


@pytest.fixture(scope="module")
def fresh(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("gen")
    subprocess.run(
        [sys.executable, str(ROOT / "scripts" / "gen-proto"), str(out)],
        check=True,
        capture_output=True,
        timeout=120,
    )
    return out


@pytest.mark.parametrize("name", GENERATED)
def test_committed_stub_matches_the_proto(fresh: Path, name: str) -> None:
    committed = (ROOT / PACKAGE_DIR / name).read_text()
    generated = (fresh / PACKAGE_DIR / name).read_text()
    assert committed == generated, f"{PACKAGE_DIR / name} is stale: run scripts/gen-proto"
