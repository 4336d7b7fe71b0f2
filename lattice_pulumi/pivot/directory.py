"""Back up a move's object set to a directory and read it back (``--to/--from-directory``).

One file per object, ``<Kind>_<namespace>_<name>.yaml`` holding the object as JSON (valid
YAML, the layout clusterctl uses), with its source UID, ownerReferences and status, so the
same graph and plan can be rebuilt from the files alone. Files are written to a temporary
name and renamed (a crash never leaves half a file), mode 0600 in a 0700 directory: the set
includes the cluster's Secrets.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from ruamel.yaml import YAML
from ruamel.yaml.error import YAMLError

from lattice_pulumi.errors import PivotError
from lattice_pulumi.pivot.objects import Object, ref_of

__all__ = ["file_name", "load_objects", "save_object", "save_objects"]


def file_name(obj: Mapping[str, Any]) -> str:
    """The file one object is saved in."""
    ref = ref_of(obj)
    return f"{ref.kind}_{ref.namespace or '_cluster'}_{ref.name}.yaml"


def save_object(directory: Path, obj: Mapping[str, Any]) -> Path:
    """Write one object atomically; returns its path."""
    directory.mkdir(mode=0o700, parents=True, exist_ok=True)
    path = directory / file_name(obj)
    temporary = path.with_name(f".{path.name}.tmp")
    descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(descriptor, "w") as handle:
        json.dump(obj, handle, indent=1, sort_keys=True)
        handle.write("\n")
    temporary.replace(path)
    return path


def save_objects(directory: Path, objects: Iterable[Mapping[str, Any]]) -> list[Path]:
    """Write every object; returns the paths in order."""
    return [save_object(directory, obj) for obj in objects]


def load_objects(directory: Path) -> list[Object]:
    """Every object saved in ``directory``; a bad file is a PivotError naming it."""
    if not directory.is_dir():
        raise PivotError(f"{directory} is not a directory", phase="restore")
    yaml = YAML(typ="safe")
    objects: list[Object] = []
    for path in sorted(directory.glob("*.yaml")):
        try:
            loaded = yaml.load(path.read_text())
        except (OSError, YAMLError) as error:
            raise PivotError(f"cannot read: {error}", phase="restore", obj=str(path)) from None
        if not isinstance(loaded, dict) or not loaded.get("kind"):
            raise PivotError("expected one Kubernetes object", phase="restore", obj=str(path))
        uid = (loaded.get("metadata") or {}).get("uid")
        if not uid:
            raise PivotError("metadata.uid is missing", phase="restore", obj=str(path))
        objects.append(loaded)
    return objects
