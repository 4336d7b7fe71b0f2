"""What every install and uninstall phase shares: the plane, the stacks, the reporter, and
the objects put on a management plane (provider components and the Lattice operator).

``InstallContext.folder`` is ``stacks/<cluster>``: the progress files, the list of objects
that existed on an existing plane before the install (so they are never removed), the
Pulumi project's work dir and, once the cluster is provisioned, its admin kubeconfig
(``kubeconfig``, mode 0600: what ``lattice uninstall -k`` takes).
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

from lattice_pulumi.compile import apiversions
from lattice_pulumi.compile.agent import AGENT_IMAGE
from lattice_pulumi.compile.cluster.addons import LATTICE_NAMESPACE
from lattice_pulumi.compile.operator_bundle import compile_operator_objects
from lattice_pulumi.install import cluster_state
from lattice_pulumi.install.bootstrap import BootstrapPlane
from lattice_pulumi.install.components import identity, split_preexisting
from lattice_pulumi.install.stacks import BOOTSTRAP, ObjectsStack, StackDriver
from lattice_pulumi.spec.crds import build_crds

__all__ = ["InstallContext", "Reporter", "management_objects", "write_private"]


class Reporter(Protocol):
    """Where the phases say how far a long wait has got."""

    def count(self, what: str, done: int, total: int) -> None:
        """``done`` of ``total`` (machines ready, objects deleted)."""
        ...


def write_private(path: Path, text: str) -> None:
    """Write ``text`` to a 0600 file atomically (a kubeconfig: never world-readable)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    descriptor = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(descriptor, "w", encoding="utf-8") as handle:
        handle.write(text)
        handle.flush()
        os.fsync(handle.fileno())
    os.replace(tmp, path)


def management_objects(
    cluster: str, components: Sequence[Mapping[str, Any]]
) -> list[dict[str, Any]]:
    """Provider components, the Lattice CRDs, ``lattice-system`` and the operator."""
    namespace = apiversions.header("Namespace", LATTICE_NAMESPACE)
    operator = compile_operator_objects(cluster, AGENT_IMAGE)
    return [*map(dict, components), *build_crds(), namespace, *operator]


@dataclass(frozen=True)
class InstallContext:
    """One cluster's install or uninstall: names, folder, plane, components, stacks."""

    cluster: str
    namespace: str
    folder: Path
    plane: BootstrapPlane
    components: tuple[Mapping[str, Any], ...]
    stacks: StackDriver
    reporter: Reporter
    timeout: float = 1800.0
    poll: float = 2.0
    skip_await: bool = False

    @property
    def kubeconfig(self) -> Path:
        """The new cluster's admin kubeconfig, written once it is provisioned."""
        return self.folder / "kubeconfig"

    @property
    def _preexisting_file(self) -> Path:
        return self.folder / "bootstrap-preexisting.json"

    def bootstrap_objects(self, kubeconfig: Path) -> list[Mapping[str, Any]]:
        """What this install puts on the plane: all of it, less what was there before.

        The "before" list is taken once, before the first apply, and kept in the folder: a
        rerun must not mistake what an interrupted run created for someone else's.
        """
        wanted: list[Mapping[str, Any]] = [*management_objects(self.cluster, self.components)]
        if self.plane.owns_plane:
            return wanted
        if self._preexisting_file.exists():
            before = json.loads(self._preexisting_file.read_text(encoding="utf-8"))
        else:
            before = cluster_state.existing(kubeconfig, wanted)
            write_private(self._preexisting_file, json.dumps(before, indent=2))
        return split_preexisting(wanted, before)

    def apply_bootstrap(self) -> None:
        """The plane up and the ``bootstrap`` stack on it."""
        kubeconfig = self.plane.ensure()
        objects = tuple(self.bootstrap_objects(kubeconfig))
        self.stacks.up(ObjectsStack(BOOTSTRAP, kubeconfig, objects, self.skip_await))

    def bootstrap_applied(self) -> bool:
        """The plane answers and holds every object the ``bootstrap`` stack applies."""
        if not self.plane.is_up():
            return False
        kubeconfig = self.plane.ensure()
        objects = self.bootstrap_objects(kubeconfig)
        return len(cluster_state.existing(kubeconfig, objects)) == len(objects)

    def remove_bootstrap(self) -> None:
        """Remove what install put on the plane (or the plane itself, when it is ours):
        the ``bootstrap`` stack, and the cluster's emptied ``capi-<cluster>`` namespace."""
        if self.plane.owns_plane:
            self.plane.remove()
            self.stacks.forget(BOOTSTRAP)
            return
        kubeconfig = self.plane.ensure()
        if (
            cluster_state.get(
                kubeconfig, cluster_state.CAPI, "Cluster", self.cluster, self.namespace
            )
            is None
        ):
            cluster_state.delete(kubeconfig, "v1", "Namespace", self.namespace, "")
        self.stacks.destroy(BOOTSTRAP)

    def bootstrap_removed(self) -> bool:
        if self.plane.owns_plane:
            return not self.plane.is_up()
        kubeconfig = self.plane.ensure()
        if cluster_state.get(kubeconfig, "v1", "Namespace", self.namespace) is not None:
            return False
        return not cluster_state.existing(kubeconfig, self.bootstrap_objects(kubeconfig))

    def installed_identities(self) -> list[str]:
        """``Kind/namespace/name`` of what the bootstrap stack applies (for reports)."""
        return [identity(o) for o in self.bootstrap_objects(self.plane.ensure())]
