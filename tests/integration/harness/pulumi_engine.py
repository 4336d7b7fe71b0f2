"""An isolated Pulumi engine for tests: private PULUMI_HOME, file:// backend, built binaries.

The pulumi CLI (and the ``pulumi-resource-pulumi-python`` launcher for dynamic providers)
come from ``scripts/build-tools``; ``pulumi-resource-kubernetes`` too when a test asks for
it, and the language hosts ``pulumi-language-python`` and ``pulumi-language-yaml`` when a
test runs projects from a shell (``harness.pulumi_shell``). Plugins are found on PATH
(ambient), automatic plugin downloads are off, and secrets use a passphrase, so nothing
leaves the machine.

``stack()`` runs Python programs as Automation API *inline* programs: the Python SDK serves
the language runtime itself and hands the CLI ``--client``. Projects on disk
(``runtime: python`` or ``yaml``) run through the built language hosts instead.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .tools import Tool, require_tools

PASSPHRASE = "lattice-test-passphrase"


@dataclass
class PulumiEngine:
    """Where the engine keeps its state, and the environment that points it there."""

    root: Path
    tools: dict[str, Tool]
    env: dict[str, str] = field(default_factory=dict)

    @property
    def home(self) -> Path:
        """PULUMI_HOME (plugins, credentials, workspace settings)."""
        return self.root / "home"

    @property
    def state_dir(self) -> Path:
        """Directory of the file:// backend."""
        return self.root / "state"

    @property
    def backend_url(self) -> str:
        """The file:// backend URL."""
        return self.state_dir.as_uri()

    @property
    def pulumi_root(self) -> Path:
        """Directory with ``bin/pulumi`` (Automation API's ``PulumiCommand(root=...)``)."""
        return self.tools["pulumi"].directory

    def bin_dirs(self) -> list[Path]:
        """Directories to put first on PATH: the CLI, the launcher and the providers."""
        dirs = [self.tools["pulumi"].path().parent]
        dirs += [t.path().parent for name, t in self.tools.items() if name != "pulumi"]
        return dirs

    def command(self) -> Any:
        """An Automation API ``PulumiCommand`` for the built CLI (version checked)."""
        from pulumi import automation as auto

        return auto.PulumiCommand(root=str(self.pulumi_root))

    def stack(
        self,
        project: str,
        stack: str,
        program: Callable[[], None],
        work_dir: Path | None = None,
        config: Mapping[str, str] | None = None,
    ) -> Any:
        """Create or select a stack of an inline Python program on the file:// backend."""
        from pulumi import automation as auto

        settings = auto.ProjectSettings(
            name=project, runtime="python", backend=auto.ProjectBackend(url=self.backend_url)
        )
        options = auto.LocalWorkspaceOptions(
            work_dir=str(work_dir) if work_dir else None,
            pulumi_home=str(self.home),
            env_vars=dict(self.env),
            project_settings=settings,
            pulumi_command=self.command(),
        )
        created = auto.create_or_select_stack(
            stack_name=stack, project_name=project, program=program, opts=options
        )
        for key, value in (config or {}).items():
            created.set_config(key, auto.ConfigValue(value=value))
        return created


LANGUAGE_HOSTS = ("pulumi-language-python", "pulumi-language-yaml")


def make_engine(
    root: Path, with_kubernetes: bool = False, with_languages: bool = False
) -> PulumiEngine:
    """Prepare the directories and environment of an engine (skip/fail if tools are missing)."""
    names = ["pulumi"] + (["pulumi-resource-kubernetes"] if with_kubernetes else [])
    names += list(LANGUAGE_HOSTS) if with_languages else []
    tools = require_tools(*names)
    engine = PulumiEngine(root, tools)
    engine.home.mkdir(parents=True, exist_ok=True)
    engine.state_dir.mkdir(parents=True, exist_ok=True)
    path = os.pathsep.join(
        [str(d) for d in engine.bin_dirs()] + [os.environ.get("PATH", os.defpath)]
    )
    engine.env = {
        "PATH": path,
        "PULUMI_HOME": str(engine.home),
        "PULUMI_BACKEND_URL": engine.backend_url,
        "PULUMI_CONFIG_PASSPHRASE": PASSPHRASE,
        "PULUMI_DISABLE_AUTOMATIC_PLUGIN_ACQUISITION": "true",
        "PULUMI_SKIP_UPDATE_CHECK": "true",
        "PULUMI_SKIP_CONFIRMATIONS": "true",
        "PULUMI_PYTHON_CMD": sys.executable,
        # Dynamic providers are unpickled in another process, which imports harness.
        "PYTHONPATH": os.pathsep.join(
            [str(Path(__file__).resolve().parents[1])]
            + ([os.environ["PYTHONPATH"]] if os.environ.get("PYTHONPATH") else [])
        ),
    }
    return engine
