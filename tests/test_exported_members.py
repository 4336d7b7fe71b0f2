"""Every module's ``__all__`` names its public definitions (ruff's RUF022 keeps it sorted).

CLI modules are exempt from the completeness check: typer commands are public functions
by nature, and only ``register`` is meant to be imported.
"""

from __future__ import annotations

import importlib
import pkgutil
from types import ModuleType

import pytest

import lattice_pulumi


def _modules() -> list[str]:
    names = [lattice_pulumi.__name__]
    for info in pkgutil.walk_packages(lattice_pulumi.__path__, f"{lattice_pulumi.__name__}."):
        if ".gen" in info.name or info.name.endswith("_pb2") or info.name.endswith("_pb2_grpc"):
            continue
        names.append(info.name)
    return names


def _public_names(module: ModuleType) -> set[str]:
    return {
        name
        for name, value in vars(module).items()
        if not name.startswith("_")
        and getattr(value, "__module__", module.__name__) == module.__name__
        and not isinstance(value, ModuleType)
        and callable(value)
    }


@pytest.mark.parametrize("name", _modules())
def test_all_lists_public_definitions(name: str) -> None:
    module = importlib.import_module(name)
    exported = getattr(module, "__all__", None)
    assert exported is not None, f"{name} has no __all__"
    if not name.startswith("lattice_pulumi.cli."):
        missing = _public_names(module) - set(exported)
        assert not missing, f"{name} defines public {sorted(missing)} not in __all__"
    for item in exported:
        assert hasattr(module, item), f"{name}.__all__ names missing {item}"
