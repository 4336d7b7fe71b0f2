"""Score file ``source``: read next to the spec at load time, errors at the field."""

from __future__ import annotations

import base64
from pathlib import Path

from lattice_pulumi.errors import format_path
from lattice_pulumi.spec import loader
from lattice_pulumi.spec.service import LatticeService

SCORE = """apiVersion: score.dev/v1b1
metadata: {name: demo}
containers:
  main:
    image: nginx:1.27
    files:
"""


def _write(tmp_path: Path, files: str) -> Path:
    spec = tmp_path / "svc.yaml"
    spec.write_text(SCORE + files)
    return spec


def test_text_source_becomes_content_and_binary_becomes_bytes(tmp_path: Path) -> None:
    (tmp_path / "conf.txt").write_text("name=${metadata.name}\n")
    (tmp_path / "blob.bin").write_bytes(b"\xff\x00\xfe")
    spec = _write(tmp_path, "      /etc/a: {source: conf.txt}\n      /etc/b: {source: blob.bin}\n")
    (service,) = loader.load(spec)
    assert isinstance(service, LatticeService)
    files = service.spec.workload.containers["main"].files
    assert files["/etc/a"].content == "name=${metadata.name}\n"
    assert files["/etc/a"].source is None
    assert base64.b64decode(files["/etc/b"].binary_content or "") == b"\xff\x00\xfe"


def test_missing_source_is_an_error_at_the_field(tmp_path: Path) -> None:
    spec = _write(tmp_path, "      /etc/a: {source: nope.txt}\n")
    result = loader.load_documents(spec)
    (error,) = result.errors
    assert format_path(error.path) == "containers.main.files./etc/a.source"
    assert error.message == "cannot read file source 'nope.txt': No such file or directory"
    assert (error.file, error.line) == (str(spec), 7)
    assert result.resources == []
