"""Compile a LatticeBackupPolicy into one Velero ``Schedule`` (``velero.io/v1``).

``compile_backup_policy(policy, cluster)`` is pure. The Schedule lives in Velero's
namespace (Velero only reads Schedules there) and is named ``<namespace>-<name>`` of the
policy, so policies of two namespaces never collide; the name is also a label value on
every Backup Velero makes from it, so it must fit 63 characters. The backup template
carries the policy's fields one to one (empty ``includedNamespaces`` means every
namespace, as in Velero); the storage location defaults to the cluster's
``backups.storageLocation``. A cluster with ``backups`` off has no Velero: compiling a
policy for it is refused.
"""

from __future__ import annotations

from typing import Any

from lattice_pulumi.compile import apiversions, labels
from lattice_pulumi.errors import CompileError
from lattice_pulumi.spec.backup import BackupHook, HookStep, LabelSelector, LatticeBackupPolicy
from lattice_pulumi.spec.cluster import LatticeCluster

__all__ = ["POLICY_LABEL", "VELERO_NAMESPACE", "compile_backup_policy", "schedule_name"]

VELERO_NAMESPACE = "velero"
POLICY_LABEL = "lattice.dev/backup-policy"
_MAX_LABEL_VALUE = 63


def schedule_name(policy: LatticeBackupPolicy) -> str:
    """``<namespace>-<name>``: the Schedule's name and its Backups' label value."""
    name = f"{policy.namespace}-{policy.name}"
    if len(name) > _MAX_LABEL_VALUE:
        raise CompileError(
            f"Schedule name '{name}' is {len(name)} characters: expected at most "
            f"{_MAX_LABEL_VALUE} (namespace plus name; Velero labels backups with it)",
            subject=f"LatticeBackupPolicy {policy.namespace}/{policy.name}",
            path=("metadata", "name"),
        )
    return name


def _selector(selector: LabelSelector | None) -> dict[str, Any]:
    if selector is None or not selector.match_labels:
        return {}
    return {"labelSelector": {"matchLabels": dict(selector.match_labels)}}


def _step(step: HookStep) -> dict[str, Any]:
    command: dict[str, Any] = {"command": list(step.exec.command)}
    if step.exec.container is not None:
        command["container"] = step.exec.container
    command["onError"] = step.exec.on_error
    command["timeout"] = step.exec.timeout
    return {"exec": command}


def _hook(hook: BackupHook) -> dict[str, Any]:
    result: dict[str, Any] = {"name": hook.name}
    if hook.included_namespaces:
        result["includedNamespaces"] = list(hook.included_namespaces)
    if hook.excluded_namespaces:
        result["excludedNamespaces"] = list(hook.excluded_namespaces)
    result |= _selector(hook.label_selector)
    if hook.pre:
        result["pre"] = [_step(s) for s in hook.pre]
    if hook.post:
        result["post"] = [_step(s) for s in hook.post]
    return result


def _template(policy: LatticeBackupPolicy, cluster: LatticeCluster) -> dict[str, Any]:
    spec = policy.spec
    template: dict[str, Any] = {}
    if spec.included_namespaces:
        template["includedNamespaces"] = list(spec.included_namespaces)
    if spec.excluded_namespaces:
        template["excludedNamespaces"] = list(spec.excluded_namespaces)
    template |= _selector(spec.selector)
    template["storageLocation"] = spec.storage_location or cluster.spec.backups.storage_location
    template["snapshotVolumes"] = spec.snapshot_volumes
    template["ttl"] = spec.ttl
    if spec.hooks:
        template["hooks"] = {"resources": [_hook(h) for h in spec.hooks]}
    return template


def compile_backup_policy(policy: LatticeBackupPolicy, cluster: LatticeCluster) -> dict[str, Any]:
    """The Velero Schedule of ``policy`` on ``cluster``."""
    subject = f"LatticeBackupPolicy {policy.namespace}/{policy.name}"
    if not cluster.spec.backups.enabled:
        raise CompileError(
            f"cluster '{cluster.name}' has backups off (no Velero): expected "
            "spec.backups.enabled: true on the cluster",
            subject=subject,
        )
    schedule = apiversions.header("Schedule", schedule_name(policy), VELERO_NAMESPACE)
    schedule["metadata"]["labels"] = {
        **labels.cluster_labels(cluster.name),
        POLICY_LABEL: policy.name,
        "lattice.dev/backup-policy-namespace": policy.namespace,
    }
    schedule["spec"] = {
        "schedule": policy.spec.schedule,
        "paused": policy.spec.paused,
        "useOwnerReferencesInBackup": False,
        "template": _template(policy, cluster),
    }
    return schedule
