"""The Automation API side of ``lattice install``: the three stacks of one cluster.

``PulumiStacks(folder)`` implements :class:`lattice_pulumi.install.stacks.StackDriver`.
Project ``lattice-install`` with its work dir ``stacks/<cluster>`` (the issue's "project
under stacks/"), the local file backend under ``stacks/<cluster>/state`` unless
``LATTICE_STATE_DIR`` names another, passphrase secrets (``settings``). Inline programs:

* an ``ObjectsStack`` is one ``pulumi_kubernetes.yaml.v2.ConfigGroup`` of its manifests
  (it orders CRDs and namespaces before the objects that need them and takes any kind,
  webhook configurations included) through a provider built from the kubeconfig, which
  reaches the engine as a secret;
* a ``ClusterStack`` is the ``LatticeCluster`` component on the plane's provider, with the
  add-on releases beside it (the Helm add-on provider installs the CNI, whose CRDs the
  component's in-cluster policies need, as soon as the new cluster answers); it
  exports the new cluster's kubeconfig (secret in the state; returned in the clear to the
  caller, who writes it 0600).

Neither reads the ambient kubeconfig. The engine's output of each ``up`` goes to
``stacks/<cluster>/logs/<stack>-up.log`` (secret values show as ``[secret]`` there).
"""

from __future__ import annotations

import copy
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pulumi
import pulumi_kubernetes as k8s
from pulumi import automation as auto

from lattice_pulumi.automation.settings import (
    STATE_ENV,
    StackSettings,
    stack_settings,
    workspace_options,
)
from lattice_pulumi.automation.stacks import engine_error_line
from lattice_pulumi.components.lattice_cluster import LatticeCluster
from lattice_pulumi.errors import LatticeError, ToolError
from lattice_pulumi.install.stacks import ClusterStack, ObjectsStack

__all__ = ["PROJECT", "PulumiStacks"]

PROJECT = "lattice-install"
SKIP_AWAIT = "pulumi.com/skipAwait"


def _provider(name: str, kubeconfig: Path) -> k8s.Provider:
    text = kubeconfig.read_text(encoding="utf-8")
    return k8s.Provider(name, kubeconfig=pulumi.Output.secret(text), enable_server_side_apply=True)


def _annotated(obj: Mapping[str, Any], skip_await: bool) -> dict[str, Any]:
    body = copy.deepcopy(dict(obj))
    if skip_await:
        body["metadata"].setdefault("annotations", {})[SKIP_AWAIT] = "true"
    return body


def _objects_program(stack: ObjectsStack) -> Any:
    def program() -> None:
        provider = _provider(f"{stack.name}-kubernetes", stack.kubeconfig)
        k8s.yaml.v2.ConfigGroup(
            stack.name,
            objs=[_annotated(o, stack.skip_await) for o in stack.objects],
            opts=pulumi.ResourceOptions(provider=provider),
        )

    return program


def _cluster_program(stack: ClusterStack) -> Any:
    def program() -> None:
        provider = _provider("management", stack.kubeconfig)
        cluster = LatticeCluster("cluster", str(stack.cluster_file), parent_provider=provider)
        if stack.releases:  # in the cluster's namespace, so after it, not after the Cluster
            namespaces = [
                resource
                for resource, obj in zip(cluster.resources, cluster.manifests, strict=True)
                if obj["kind"] == "Namespace"
            ]
            k8s.yaml.v2.ConfigGroup(
                "releases",
                objs=[dict(o) for o in stack.releases],
                opts=pulumi.ResourceOptions(provider=provider, depends_on=namespaces),
            )
        pulumi.export("kubeconfig", cluster.kubeconfig)
        pulumi.export("endpoint", cluster.endpoint)
        pulumi.export("clusterName", cluster.cluster_name)

    return program


class _Guard:
    def __init__(self, program: Any) -> None:
        self.program = program
        self.error: LatticeError | None = None

    def __call__(self) -> None:
        try:
            self.program()
        except LatticeError as exc:
            self.error = exc
            raise


class PulumiStacks:
    """The ``bootstrap``, ``cluster`` and ``addons`` stacks of the cluster in ``folder``."""

    def __init__(self, folder: Path, env: Mapping[str, str] | None = None) -> None:
        self.folder = folder.resolve()
        self.env = dict(os.environ if env is None else env)
        state = None if self.env.get(STATE_ENV) else self.folder / "state"
        self._settings: StackSettings = stack_settings(
            "bootstrap", project=PROJECT, state_dir=state, env=self.env
        )

    def _stack(self, name: str, program: Any) -> auto.Stack:
        options = workspace_options(self._settings, self.env)
        options.work_dir = str(self.folder)
        try:
            return auto.create_or_select_stack(
                name, project_name=PROJECT, program=program, opts=options
            )
        except auto.CommandError as exc:
            raise ToolError(f"stack {name}: {engine_error_line(str(exc))}") from exc

    def up(self, stack: ObjectsStack | ClusterStack) -> Mapping[str, Any]:
        program = (
            _objects_program(stack) if isinstance(stack, ObjectsStack) else _cluster_program(stack)
        )
        guard = _Guard(program)
        handle = self._stack(stack.name, guard)
        log = self.folder / "logs" / f"{stack.name}-up.log"
        log.parent.mkdir(parents=True, exist_ok=True)
        with log.open("w", encoding="utf-8") as out:
            try:
                result = handle.up(color="never", on_output=lambda line: print(line, file=out))
            except auto.CommandError as exc:
                if guard.error is not None:
                    raise guard.error from exc
                print(str(exc), file=out)
                line = engine_error_line(str(exc))
                raise ToolError(f"stack {stack.name}: {line} (engine log: {log})") from exc
        return {key: value.value for key, value in result.outputs.items()}

    def destroy(self, name: str) -> None:
        handle = self._stack(name, lambda: None)
        try:
            handle.destroy(color="never", on_output=lambda _line: None)
        except auto.CommandError as exc:
            raise ToolError(f"stack {name}: {engine_error_line(str(exc))}") from exc
        self.forget(name)

    def forget(self, name: str) -> None:
        handle = self._stack(name, lambda: None)
        try:
            handle.workspace.remove_stack(name, force=True)
        except auto.CommandError as exc:
            raise ToolError(f"stack {name}: {engine_error_line(str(exc))}") from exc
