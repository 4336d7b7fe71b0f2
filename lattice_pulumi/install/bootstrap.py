"""The bootstrap management plane of ``lattice install`` / ``uninstall``: where Cluster API
runs until the new cluster manages itself.

``BootstrapPlane`` is the small interface the phase machine needs; two implementations:

* :class:`KindPlane` (the default): a throwaway kind cluster ``lattice-bootstrap-<cluster>``,
  made with the ``kind`` binary (a clear error naming what to install when it is absent) and
  deleted whole on removal;
* :class:`ExistingPlane` (``--bootstrap-kubeconfig``): a management cluster that already
  exists, as clusterctl's model has it. Lattice never deletes it: removing it means
  uninstalling only what install put there (the caller destroys its own stack on it), so
  ``owns_plane`` is False.

Neither holds a secret in memory longer than a call: kind writes its kubeconfig to a file
(0600) under the cluster's stacks folder, an existing plane's file is the user's.
"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path
from typing import Protocol

from lattice_pulumi.errors import InstallError, ToolError
from lattice_pulumi.install import cluster_state

__all__ = ["BootstrapPlane", "ExistingPlane", "KindPlane", "find_kind"]

_KIND_HINT = (
    "the kind binary is not on PATH: install kind (https://kind.sigs.k8s.io, "
    "`go install sigs.k8s.io/kind@latest`) and Docker or Podman, or pass "
    "--bootstrap-kubeconfig of an existing management cluster"
)


class BootstrapPlane(Protocol):
    """A management plane that can be brought up, reached and removed."""

    @property
    def description(self) -> str:
        """One line for progress output (no secret)."""
        ...

    @property
    def owns_plane(self) -> bool:
        """True when removal deletes the plane itself (kind), not only what was installed."""
        ...

    def ensure(self) -> Path:
        """Bring the plane up if needed (idempotent); the path of its kubeconfig."""
        ...

    def is_up(self) -> bool:
        """Whether the plane exists and its API server answers."""
        ...

    def remove(self) -> None:
        """Delete the plane if this object owns it (idempotent); otherwise nothing."""
        ...


def find_kind(path: str | None = None) -> str:
    """The kind executable; ToolError naming what to install when there is none."""
    found = shutil.which("kind", path=path)
    if found is None:
        raise ToolError(_KIND_HINT)
    return found


class KindPlane:
    """A kind cluster made for one install and deleted when it is done."""

    def __init__(self, cluster: str, folder: Path, kind: str | None = None) -> None:
        self.name = f"lattice-bootstrap-{cluster}"
        self.kubeconfig = folder / "bootstrap-kubeconfig"
        self._kind = kind

    @property
    def description(self) -> str:
        return f"kind cluster {self.name}"

    @property
    def owns_plane(self) -> bool:
        return True

    def _run(self, *args: str) -> str:
        kind = self._kind or find_kind()
        done = subprocess.run(
            [kind, *args], capture_output=True, text=True, check=False, stdin=subprocess.DEVNULL
        )
        if done.returncode != 0:
            last = (done.stderr.strip().splitlines() or ["no output"])[-1]
            raise ToolError(f"kind {args[0]} {args[1]}: {last}")
        return done.stdout

    def _exists(self) -> bool:
        return self.name in self._run("get", "clusters").split()

    def ensure(self) -> Path:
        self.kubeconfig.parent.mkdir(parents=True, exist_ok=True)
        if not self._exists():
            self.kubeconfig.touch(mode=0o600)
            self._run(
                "create",
                "cluster",
                "--name",
                self.name,
                "--kubeconfig",
                str(self.kubeconfig),
                "--wait",
                "120s",
            )
        else:
            self.kubeconfig.touch(mode=0o600)
            self.kubeconfig.write_text(self._run("get", "kubeconfig", "--name", self.name))
        return self.kubeconfig

    def is_up(self) -> bool:
        return self._exists() and cluster_state.reachable(self.kubeconfig)

    def remove(self) -> None:
        if self._exists():
            self._run("delete", "cluster", "--name", self.name)
        self.kubeconfig.unlink(missing_ok=True)


class ExistingPlane:
    """A management cluster the user already runs; only its kubeconfig is needed."""

    def __init__(self, kubeconfig: Path) -> None:
        self.kubeconfig = kubeconfig

    @property
    def description(self) -> str:
        return f"the management cluster of {self.kubeconfig}"

    @property
    def owns_plane(self) -> bool:
        return False

    def ensure(self) -> Path:
        if not self.kubeconfig.is_file():
            raise InstallError(f"bootstrap kubeconfig {self.kubeconfig} does not exist")
        cluster_state.require_reachable(self.kubeconfig, "bootstrap kubeconfig")
        return self.kubeconfig

    def is_up(self) -> bool:
        return self.kubeconfig.is_file() and cluster_state.reachable(self.kubeconfig)

    def remove(self) -> None:
        """The plane stays: what install put on it is its stack's to remove."""
