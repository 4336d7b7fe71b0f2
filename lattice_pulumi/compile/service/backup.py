"""Velero pod annotations of a LatticeService (``spec.backup``).

Called by ``compile_service`` for the pod template's annotations; pure (no I/O).

- Hooks: Velero reads one pre and one post hook from pod annotations
  (``pre.hook.backup.velero.io/{container,command,on-error,timeout}``, same with ``post``).
  A second hook in a phase is a ``CompileError`` rather than a chained shell command:
  chaining would need a shell in the container and would merge per-hook timeouts and
  ``onError`` into one. The message says how to combine the commands by hand.
- Volumes: ``backup.velero.io/backup-volumes`` (opt-in file-system backup) and
  ``backup.velero.io/backup-volumes-excludes`` (opt-out), comma-separated pod volume names.
  Pod volumes are named after their volume resources (resource ``data`` -> volume ``data``).

Annotations are emitted whenever ``spec.backup`` is set, whatever ``ClusterInfo.backups``
says: they are inert without Velero, and the same manifests stay correct once a cluster
turns backups on.
"""

from __future__ import annotations

import json

from lattice_pulumi.errors import CompileError
from lattice_pulumi.spec.service import LatticeService
from lattice_pulumi.spec.service_options import BackupHook

__all__ = ["EXCLUDE_VOLUMES", "INCLUDE_VOLUMES", "backup_annotations"]

INCLUDE_VOLUMES = "backup.velero.io/backup-volumes"
EXCLUDE_VOLUMES = "backup.velero.io/backup-volumes-excludes"


def backup_annotations(service: LatticeService) -> dict[str, str]:
    """Pod annotations for Velero; {} without ``spec.backup``."""
    backup = service.spec.backup
    if backup is None:
        return {}
    annotations: dict[str, str] = {}
    for phase, hooks in (("pre", backup.pre), ("post", backup.post)):
        if len(hooks) > 1:
            raise CompileError(
                f"Velero pod annotations carry one {phase} hook; combine the commands into "
                'one (for example ["/bin/sh", "-c", "first && second"])',
                subject=_subject(service),
                path=("spec", "backup", phase, 1),
            )
        if hooks:
            annotations.update(_hook(phase, hooks[0]))
    if backup.include_volumes:
        annotations[INCLUDE_VOLUMES] = ",".join(backup.include_volumes)
    if backup.exclude_volumes:
        annotations[EXCLUDE_VOLUMES] = ",".join(backup.exclude_volumes)
    return annotations


def _hook(phase: str, hook: BackupHook) -> dict[str, str]:
    prefix = f"{phase}.hook.backup.velero.io"
    return {
        f"{prefix}/container": hook.container,
        f"{prefix}/command": json.dumps(hook.command),
        f"{prefix}/on-error": hook.on_error,
        f"{prefix}/timeout": hook.timeout,
    }


def _subject(service: LatticeService) -> str:
    """How errors name the service (as ``compile_service`` does)."""
    return f"service {service.namespace}/{service.name}"
