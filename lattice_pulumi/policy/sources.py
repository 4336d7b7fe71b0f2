"""Policy sources: what the authorizer is loaded from, their order, inheritance and files.

A ``PolicySource`` is the authorizer's view of one CedarPolicy object (or one ``.cedar``
file). The spec layer converts its CedarPolicy model into this dataclass; this module also
reads sources straight from a directory for the ``lattice policy`` commands, through the
project loader (so CedarPolicy documents get the same checks and positions as every kind).

Order: inherited sources first, then higher ``priority`` first, then by namespace and name.
Cedar decisions do not depend on order (any matching forbid wins, otherwise any matching
permit allows); the order decides how policies are listed in reasons and reports.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

from lattice_pulumi.errors import format_path
from lattice_pulumi.policy.problems import PolicyProblem
from lattice_pulumi.spec import loader
from lattice_pulumi.spec.policy import CedarPolicy

__all__ = [
    "API_VERSION",
    "KIND",
    "PolicySource",
    "effective_policies",
    "load_policy_files",
    "order_sources",
    "source_from_policy",
    "sources_in",
]

API_VERSION = "lattice.dev/v1alpha1"
KIND = "CedarPolicy"


@dataclass(frozen=True)
class PolicySource:
    """One CedarPolicy object: Cedar text plus how it takes part in the policy set.

    ``propagate`` asks for the policy to apply in child clusters too; ``inherited`` marks a
    source that arrived from a parent that way. ``file`` is only used to locate problems.
    """

    name: str
    namespace: str
    text: str
    priority: int = 0
    enabled: bool = True
    propagate: bool = False
    inherited: bool = False
    file: str | None = None

    @property
    def label(self) -> str:
        """``namespace/name`` (just ``name`` for a source without namespace)."""
        return f"{self.namespace}/{self.name}" if self.namespace else self.name


def _sort_key(source: PolicySource) -> tuple[bool, int, str, str]:
    return (not source.inherited, -source.priority, source.namespace, source.name)


def order_sources(sources: Iterable[PolicySource]) -> list[PolicySource]:
    """Inherited first, then by descending priority, then by namespace and name."""
    return sorted(sources, key=_sort_key)


def effective_policies(
    parent: Sequence[PolicySource], local: Sequence[PolicySource]
) -> list[PolicySource]:
    """The policy set of a child cluster: what its parent propagates plus its own.

    ``parent`` is the parent's effective set (so a grandparent's propagating policies travel
    on); only sources with ``propagate`` cross, marked ``inherited``. The result is computed
    from the parent's current set every time, so removing a policy at the parent removes it
    below. Local sources are taken as local even if they carry ``inherited``.
    """
    inherited = [dataclasses.replace(s, inherited=True) for s in parent if s.propagate]
    own = [dataclasses.replace(s, inherited=False) if s.inherited else s for s in local]
    return order_sources([*inherited, *own])


def sources_in(objects: Iterable[object]) -> list[PolicySource]:
    """The policy sources of every CedarPolicy among loaded objects (others are ignored)."""
    return [source_from_policy(o) for o in objects if isinstance(o, CedarPolicy)]


def source_from_policy(policy: CedarPolicy, file: str | None = None) -> PolicySource:
    """The authorizer's view of one validated CedarPolicy object."""
    spec = policy.spec
    return PolicySource(
        name=policy.name,
        namespace=policy.metadata.namespace or "",
        text=spec.policies,
        priority=spec.priority,
        enabled=spec.enabled,
        propagate=spec.propagate,
        file=file,
    )


def load_policy_files(
    paths: Iterable[Path],
) -> tuple[list[PolicySource], list[PolicyProblem]]:
    """Read ``.cedar`` files and CedarPolicy YAML documents from files and directories.

    A ``.cedar`` file becomes one source named after the file (no namespace). Directories are
    walked recursively in name order. Unreadable files and documents that are not CedarPolicy
    objects are reported as problems; the rest still load.
    """
    sources: list[PolicySource] = []
    problems: list[PolicyProblem] = []
    for file in _iter_files(paths):
        name = str(file)
        try:
            if file.suffix == ".cedar":
                sources.append(
                    PolicySource(file.stem, "", file.read_text(encoding="utf-8"), file=name)
                )
                continue
        except (OSError, UnicodeDecodeError) as exc:
            problems.append(PolicyProblem(file.name, f"cannot read: {exc}", file=name))
            continue
        result = loader.load_documents(file)
        for error in result.errors:
            problems.append(
                PolicyProblem(
                    format_path(error.path) or "document",
                    error.message,
                    name,
                    error.line,
                    error.column,
                )
            )
        for resource in result.resources:
            if isinstance(resource, CedarPolicy):
                sources.append(source_from_policy(resource, file=name))
            else:
                problems.append(
                    PolicyProblem(resource.name, f"expected kind {KIND}, got {resource.kind}", name)  # type: ignore[attr-defined]
                )
    return sources, problems


_SUFFIXES = (".cedar", ".yaml", ".yml")


def _iter_files(paths: Iterable[Path]) -> Iterable[Path]:
    for path in paths:
        if path.is_dir():
            yield from sorted(p for p in path.rglob("*") if p.suffix in _SUFFIXES and p.is_file())
        else:
            yield path
