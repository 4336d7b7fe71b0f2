"""Persisted progress of an install or uninstall, so a rerun continues where one stopped.

One JSON file per cluster and operation (``stacks/<cluster>/<operation>-progress.json`` by
default) records the digest of the cluster spec it was started with, the phases done and
the phase running. It is written atomically (a temporary file, fsync, rename) before and
after every phase, so a kill at any moment leaves either the old or the new state. A
rerun skips the phases done and runs the interrupted one again: every phase is written to
be safe to repeat. The last phase done is not trusted blindly: when a ``verify`` check is
given for it, it runs first, and a phase whose result is no longer there (a plane deleted
meanwhile, a kill between the work and the save) runs again. A rerun with a changed spec
is refused (the saved progress belongs to another cluster definition) unless started
afresh.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from lattice_pulumi.errors import InstallError
from lattice_pulumi.install.phases import Phase

__all__ = ["Progress", "run_phases", "spec_digest"]


def spec_digest(document: Mapping[str, object]) -> str:
    """SHA-256 of the canonical JSON of a cluster document (what a rerun must match)."""
    canonical = json.dumps(document, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(canonical.encode()).hexdigest()


@dataclass
class Progress:
    """What one operation on one cluster has done so far."""

    path: Path
    operation: str
    digest: str
    done: list[str] = field(default_factory=list)
    running: str | None = None

    @classmethod
    def open(cls, path: Path, operation: str, digest: str, *, restart: bool = False) -> Progress:
        """The saved progress at ``path``, or a fresh one; refuses another spec's progress."""
        if restart or not path.exists():
            return cls(path, operation, digest)
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:
            raise InstallError(f"cannot read saved progress {path}: {exc}") from exc
        if data.get("operation") != operation or data.get("digest") != digest:
            raise InstallError(
                f"saved progress {path} is of another {data.get('operation')} or cluster spec: "
                "expected the same cluster file as the interrupted run (or --restart)"
            )
        return cls(path, operation, digest, list(data.get("done", [])), data.get("running"))

    def save(self) -> None:
        """Write atomically: readers see the old or the new file, never half of one."""
        self.path.parent.mkdir(parents=True, exist_ok=True)
        body = {
            "operation": self.operation,
            "digest": self.digest,
            "done": self.done,
            "running": self.running,
        }
        tmp = self.path.with_name(self.path.name + ".tmp")
        with tmp.open("w", encoding="utf-8") as handle:
            json.dump(body, handle, indent=2)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, self.path)


def _reverify(
    phases: Sequence[Phase],
    progress: Progress,
    on_phase: Callable[[Phase, str], None],
    verify: Mapping[str, Callable[[], bool]],
) -> None:
    """Check the last phase done again; forget it when its result is gone."""
    if not progress.done or progress.done[-1] not in verify:
        return
    last = next(p for p in phases if p.name == progress.done[-1])
    try:
        holds = verify[last.name]()
    except InstallError:
        raise
    except Exception as exc:
        raise InstallError(str(exc) or type(exc).__name__, phase=last.name) from exc
    if holds:
        on_phase(last, "verified")
        return
    progress.done.pop()
    progress.save()
    on_phase(last, "stale")


def run_phases(
    phases: Sequence[Phase],
    actions: Mapping[str, Callable[[], None]],
    progress: Progress,
    on_phase: Callable[[Phase, str], None] = lambda phase, state: None,
    verify: Mapping[str, Callable[[], bool]] | None = None,
) -> list[str]:
    """Run the phases not yet done, in order, saving progress around each; the names run.

    ``on_phase`` hears ``started``, ``done``, ``skipped``, and for the last phase done of an
    earlier run ``verified`` or ``stale`` (its check failed: it runs again).
    """
    missing = [p.name for p in phases if p.name not in actions]
    if missing:
        raise InstallError(f"no action for phases {', '.join(missing)}")
    _reverify(phases, progress, on_phase, verify or {})
    ran = []
    for phase in phases:
        if phase.name in progress.done:
            on_phase(phase, "skipped")
            continue
        progress.running = phase.name
        progress.save()
        on_phase(phase, "started")
        try:
            actions[phase.name]()
        except InstallError:
            raise
        except Exception as exc:
            raise InstallError(str(exc) or type(exc).__name__, phase=phase.name) from exc
        progress.done.append(phase.name)
        progress.running = None
        progress.save()
        on_phase(phase, "done")
        ran.append(phase.name)
    return ran
