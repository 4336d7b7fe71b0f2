"""Run the ``pulumi`` CLI as a user types it in a shell: in a project folder, one process each.

The environment is the engine fixture's (private ``PULUMI_HOME``, file:// backend, the
passphrase, the built CLI, language hosts and providers first on PATH). Stack config is
written with ``pulumi config set`` into a file outside the project (``--config-file``), so a
project inside the repository (the root ``Pulumi.yaml``) is run in place without leaving a
``Pulumi.<stack>.yaml`` behind.
"""

from __future__ import annotations

import json
import os
import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .pulumi_engine import PulumiEngine

# Commands of one stack that take --config-file (stack init, export and output do not).
_WITH_CONFIG = {"up", "preview", "destroy", "refresh", "config"}


class PulumiCommandFailed(AssertionError):
    """A ``pulumi`` command exited non-zero; the message holds its output."""


@dataclass
class PulumiShell:
    """One stack of one project folder, driven through the ``pulumi`` command."""

    engine: PulumiEngine
    project_dir: Path
    stack: str
    config_file: Path
    timeout: float = 600.0

    def command(self, *args: str) -> list[str]:
        """The command line of ``pulumi ARGS`` for this stack (non-interactive)."""
        command = ["pulumi", *args, "--stack", self.stack, "--non-interactive"]
        if args[0] in _WITH_CONFIG:
            command += ["--config-file", str(self.config_file)]
        return command

    def run(
        self, *args: str, check: bool = True, env: dict[str, str] | None = None
    ) -> subprocess.CompletedProcess[str]:
        """``pulumi ARGS`` in the project folder, waited for (``env`` overrides variables)."""
        return self.wait(self.start(*args, env=env), check=check)

    def start(self, *args: str, env: dict[str, str] | None = None) -> subprocess.Popen[str]:
        """``pulumi ARGS`` in the project folder, in the background (see ``wait``)."""
        return subprocess.Popen(
            self.command(*args),
            cwd=self.project_dir,
            env={**os.environ, **self.engine.env, **(env or {})},
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )

    def wait(
        self, process: subprocess.Popen[str], *, check: bool = True
    ) -> subprocess.CompletedProcess[str]:
        """Wait for a started command; raise PulumiCommandFailed (with its output) if it failed."""
        try:
            stdout, stderr = process.communicate(timeout=self.timeout)
        except subprocess.TimeoutExpired:
            process.kill()
            stdout, stderr = process.communicate()
        args = [str(a) for a in process.args]  # type: ignore[union-attr]
        done = subprocess.CompletedProcess(args, process.returncode, stdout, stderr)
        if check and done.returncode != 0:
            raise PulumiCommandFailed(
                f"{' '.join(args)} exited {done.returncode}\n"
                f"--- stdout\n{stdout}\n--- stderr\n{stderr}"
            )
        return done

    def config_set(self, key: str, value: str, *, secret: bool = False) -> None:
        """``pulumi config set [--secret] KEY VALUE`` (``--path`` for nested keys)."""
        flags = ["--secret"] if secret else ["--plaintext"]
        self.run("config", "set", key, value, *flags)

    def up(self, *extra: str) -> subprocess.CompletedProcess[str]:
        """``pulumi up --yes --skip-preview``."""
        return self.run("up", "--yes", "--skip-preview", *extra)

    def preview_json(self, *extra: str) -> dict[str, Any]:
        """``pulumi preview --json``, parsed (steps, changeSummary, diagnostics)."""
        result: dict[str, Any] = json.loads(self.run("preview", "--json", *extra).stdout)
        return result

    def refresh_preview_json(self) -> dict[str, Any]:
        """``pulumi refresh --preview-only --json``, parsed: what refresh would record."""
        # The engine fixture skips confirmations (as --yes), which --preview-only refuses.
        no_skip = {"PULUMI_SKIP_CONFIRMATIONS": "false"}
        done = self.run("refresh", "--preview-only", "--json", env=no_skip)
        result: dict[str, Any] = json.loads(done.stdout)
        return result

    def destroy(self) -> subprocess.CompletedProcess[str]:
        """``pulumi destroy --yes --skip-preview``."""
        return self.run("destroy", "--yes", "--skip-preview")

    def outputs(self, *, show_secrets: bool = False) -> dict[str, Any]:
        """``pulumi stack output --json``."""
        flags = ["--show-secrets"] if show_secrets else []
        result: dict[str, Any] = json.loads(self.run("stack", "output", "--json", *flags).stdout)
        return result

    def export(self) -> dict[str, Any]:
        """``pulumi stack export`` (the state as stored: secrets as ciphertext)."""
        result: dict[str, Any] = json.loads(self.run("stack", "export").stdout)
        return result

    def remove(self) -> None:
        """``pulumi stack rm --force --yes`` (the state only; the objects are not touched)."""
        self.run("stack", "rm", "--force", "--yes", check=False)


def open_stack(
    engine: PulumiEngine, project_dir: Path, stack: str, config_dir: Path
) -> PulumiShell:
    """``pulumi stack init STACK`` in ``project_dir`` with its config kept in ``config_dir``."""
    config_dir.mkdir(parents=True, exist_ok=True)
    shell = PulumiShell(engine, project_dir, stack, config_dir / f"Pulumi.{stack}.yaml")
    shell.run("stack", "init")
    return shell


def change_summary(preview: dict[str, Any]) -> dict[str, int]:
    """``changeSummary`` of a ``pulumi preview --json`` result (operation -> count)."""
    summary: dict[str, int] = preview.get("changeSummary") or {}
    return summary


# Step operations that change nothing: unchanged resources, reads of existing objects
# (``Resource.get``), which every run repeats, and a refresh that found no drift.
UNCHANGED_OPS = frozenset({"same", "read", "refresh"})


def changed_steps(preview: dict[str, Any]) -> list[tuple[str, str]]:
    """(op, URN) of every step of a preview that changes something."""
    return [
        (s["op"], s["urn"]) for s in preview.get("steps", []) if s.get("op") not in UNCHANGED_OPS
    ]


ObjectId = tuple[str, str, str, str]
"""(apiVersion, kind, namespace or "", name) of a Kubernetes object."""


def managed_objects(state: dict[str, Any]) -> list[ObjectId]:
    """Every Kubernetes object a stack manages, from ``pulumi stack export`` (reads skipped)."""
    found: list[ObjectId] = []
    for resource in state.get("deployment", {}).get("resources") or []:
        kind = str(resource.get("type", ""))
        if not kind.startswith("kubernetes:") or resource.get("external"):
            continue
        outputs = resource.get("outputs") or {}
        metadata = outputs.get("metadata") or {}
        if "apiVersion" in outputs and isinstance(metadata, dict):
            found.append(
                (
                    outputs["apiVersion"],
                    outputs["kind"],
                    metadata.get("namespace", ""),
                    metadata["name"],
                )
            )
    return sorted(found)
