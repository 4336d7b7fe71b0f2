"""Where stacks live and how their secrets are encrypted, with nothing external needed.

Defaults, each overridable:

* State: the local file backend under ``~/.lattice/state`` (``LATTICE_STATE_DIR`` or the
  ``state_dir`` argument move it). No Pulumi Cloud account, no login.
* Secrets: the ``passphrase`` provider. The passphrase is ``PULUMI_CONFIG_PASSPHRASE`` when
  set (use that in CI and for shared state); otherwise one is generated on first use and
  kept in ``<state dir>/passphrase`` (mode 0600), next to the state it protects. That
  makes a single-user machine work out of the box; whoever can read the state directory
  can decrypt its secrets, and losing the file loses them, so back both up together.
* Engine: ``pulumi`` from PATH, else the newest build under ``LATTICE_TOOLS_DIR``
  (default ``~/.cache/lattice/tools``, filled by ``scripts/build-tools``); provider plugins
  built there are put first on the engine's PATH.

Everything here is plain data and pure functions of an environment mapping, so it is
tested without the engine; ``workspace_options`` is the one place that builds Automation
API objects from it.
"""

from __future__ import annotations

import os
import secrets
import shutil
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from pulumi import automation as auto

from lattice_pulumi.errors import ToolError

__all__ = [
    "DEFAULT_PROJECT",
    "DEFAULT_STACK",
    "PASSPHRASE_ENV",
    "STATE_ENV",
    "TOOLS_ENV",
    "StackSettings",
    "find_pulumi",
    "find_tool_dirs",
    "resolve_passphrase",
    "resolve_state_dir",
    "stack_settings",
    "workspace_options",
]

DEFAULT_PROJECT = "lattice"
DEFAULT_STACK = "dev"
STATE_ENV = "LATTICE_STATE_DIR"
TOOLS_ENV = "LATTICE_TOOLS_DIR"
PASSPHRASE_ENV = "PULUMI_CONFIG_PASSPHRASE"
_PASSPHRASE_FILE = "passphrase"


@dataclass(frozen=True)
class StackSettings:
    """Everything needed to open one stack of one project."""

    project: str
    stack: str
    state_dir: Path
    passphrase: str = field(repr=False)
    passphrase_source: str  # "environment" or the file it was read from
    tool_dirs: tuple[Path, ...] = ()

    @property
    def backend_url(self) -> str:
        return self.state_dir.as_uri()

    def env_vars(self, base: Mapping[str, str]) -> dict[str, str]:
        """Variables for the engine: the passphrase, quiet update checks, tools on PATH."""
        env = {PASSPHRASE_ENV: self.passphrase, "PULUMI_SKIP_UPDATE_CHECK": "true"}
        if self.tool_dirs:
            path = os.pathsep.join([*map(str, self.tool_dirs), base.get("PATH", "")])
            env["PATH"] = path.rstrip(os.pathsep)
        return env


def resolve_state_dir(env: Mapping[str, str], override: Path | None = None) -> Path:
    """The state directory: the argument, else ``LATTICE_STATE_DIR``, else ~/.lattice/state."""
    if override is not None:
        return override.expanduser().resolve()
    if env.get(STATE_ENV):
        return Path(env[STATE_ENV]).expanduser().resolve()
    return Path(env.get("HOME", str(Path.home()))) / ".lattice" / "state"


def resolve_passphrase(env: Mapping[str, str], state_dir: Path) -> tuple[str, str]:
    """``(passphrase, where it came from)``; generates and stores one (0600) if needed."""
    if env.get(PASSPHRASE_ENV):
        return env[PASSPHRASE_ENV], "environment"
    path = state_dir / _PASSPHRASE_FILE
    if path.exists():
        mode = path.stat().st_mode & 0o777
        if mode & 0o077:
            raise ToolError(
                f"{path} is readable by others (mode {mode:o}): run chmod 600 on it, or set "
                f"{PASSPHRASE_ENV}"
            )
        return path.read_text(encoding="utf-8").strip(), str(path)
    state_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
    passphrase = secrets.token_urlsafe(32)
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(descriptor, "w", encoding="utf-8") as handle:
        handle.write(passphrase + "\n")
    return passphrase, str(path)


def find_tool_dirs(env: Mapping[str, str]) -> tuple[Path, ...]:
    """``bin`` folders of the Pulumi tools built by scripts/build-tools (pulumi first).

    Empty when ``pulumi`` is on PATH already: an installed engine is used as it is.
    """
    if shutil.which("pulumi", path=env.get("PATH")):
        return ()
    root = Path(
        env.get(TOOLS_ENV) or Path(env.get("HOME", str(Path.home()))) / ".cache/lattice/tools"
    )
    if not root.is_dir():
        return ()
    built = [
        p
        for p in root.iterdir()
        if p.name.startswith("pulumi") and p.is_dir() and not p.name.endswith(".tmp")
    ]
    found: dict[str, Path] = {}
    for path in sorted(built, key=lambda p: p.name, reverse=True):
        tool = path.name.rsplit("-v", 1)[0]
        # a tool folder holds its binaries in bin/ (the CLI) or directly (a plugin)
        found.setdefault(tool, path / "bin" if (path / "bin").is_dir() else path)
    ordered = sorted(found.items(), key=lambda item: item[0] != "pulumi")
    return tuple(path for _, path in ordered)


def stack_settings(
    stack: str = DEFAULT_STACK,
    *,
    project: str = DEFAULT_PROJECT,
    state_dir: Path | None = None,
    env: Mapping[str, str] | None = None,
) -> StackSettings:
    """Settings of ``stack`` from the environment (``os.environ`` unless given)."""
    env = os.environ if env is None else env
    directory = resolve_state_dir(env, state_dir)
    directory.mkdir(parents=True, exist_ok=True, mode=0o700)
    passphrase, source = resolve_passphrase(env, directory)
    return StackSettings(project, stack, directory, passphrase, source, find_tool_dirs(env))


def find_pulumi(settings: StackSettings, env: Mapping[str, str]) -> Path:
    """The ``pulumi`` executable the stack will use; ToolError saying how to get one."""
    found = shutil.which("pulumi", path=settings.env_vars(env).get("PATH", env.get("PATH")))
    if found is None:
        raise ToolError(
            "the pulumi engine is not installed: install it, or build it with scripts/build-tools "
            f"(into {TOOLS_ENV}, default ~/.cache/lattice/tools)"
        )
    return Path(found)


def workspace_options(
    settings: StackSettings, env: Mapping[str, str]
) -> auto.LocalWorkspaceOptions:
    """Automation API options: file backend, passphrase secrets, the engine found."""
    pulumi = find_pulumi(settings, env)
    env_vars = settings.env_vars(env)
    project = auto.ProjectSettings(
        name=settings.project,
        runtime="python",
        backend=auto.ProjectBackend(url=settings.backend_url),
    )
    return auto.LocalWorkspaceOptions(
        env_vars=env_vars,
        secrets_provider="passphrase",
        project_settings=project,
        pulumi_command=auto.PulumiCommand(root=str(pulumi.parent.parent)),
    )
