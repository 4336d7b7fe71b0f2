"""Inline Score file ``source`` references: read each file next to the spec that names it.

The loader calls ``inline_sources`` after a LatticeService validated, so compilers (which
read no files) only ever see ``content`` or ``binaryContent``. A text file becomes
``content`` (placeholders in it are expanded like inline content); anything that is not
UTF-8 becomes ``binaryContent``. Sources with placeholders in their path stay as they are
and the compiler reports them.
"""

from __future__ import annotations

import base64
from pathlib import Path

from lattice_pulumi.errors import SpecError
from lattice_pulumi.spec.service import LatticeService
from lattice_pulumi.spec.service_containers import Container, FileSpec

__all__ = ["MAX_SOURCE_BYTES", "inline_sources"]

MAX_SOURCE_BYTES = 1024 * 1024  # a ConfigMap holds at most 1 MiB


def _read(base: Path, spec: FileSpec) -> FileSpec:
    assert spec.source is not None
    path = base / spec.source
    data = path.read_bytes()
    if len(data) > MAX_SOURCE_BYTES:
        raise ValueError(
            f"is {len(data)} bytes; a file mounted from a ConfigMap holds at most 1 MiB"
        )
    try:
        update = {"content": data.decode("utf-8"), "source": None}
    except UnicodeDecodeError:
        update = {"binary_content": base64.b64encode(data).decode("ascii"), "source": None}
    return spec.model_copy(update=update)


def _inline(
    container: Container, base: Path, path: tuple[str | int, ...], errors: list[SpecError]
) -> Container:
    files = dict(container.files)
    changed = False
    for target, spec in container.files.items():
        if spec.source is None or "${" in spec.source:
            continue
        try:
            files[target] = _read(base, spec)
            changed = True
        except (OSError, ValueError) as exc:
            reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)
            errors.append(
                SpecError(
                    f"cannot read file source '{spec.source}': {reason}",
                    (*path, "files", target, "source"),
                )
            )
    return container.model_copy(update={"files": files}) if changed else container


def inline_sources(service: LatticeService, base: Path) -> tuple[LatticeService, list[SpecError]]:
    """The service with every readable file source inlined, and the sources that failed."""
    errors: list[SpecError] = []
    spec = service.spec
    containers = {
        name: _inline(c, base, ("spec", "workload", "containers", name), errors)
        for name, c in spec.workload.containers.items()
    }
    sidecars = {
        name: _inline(c, base, ("spec", "sidecars", name), errors)
        for name, c in spec.sidecars.items()
    }
    workload = spec.workload.model_copy(update={"containers": containers})
    new_spec = spec.model_copy(update={"workload": workload, "sidecars": sidecars})
    return service.model_copy(update={"spec": new_spec}), errors
