"""Inline Pulumi programs built from spec files: one LatticeService per service found.

``load_deployment`` reads the spec files (CedarPolicy documents among them feed the
authorizer) and builds the one ``CompileContext`` every service compiles with, so
templates and mesh policies see every service whatever the order. ``build_program``
returns the function the Automation API runs: it creates one Kubernetes provider for the
``Target`` (a kubeconfig, or ``render_yaml_to_directory`` to write manifests without a
cluster), one LatticeService per service, exports each service's url and objects, and
logs one-sided mesh declarations as warnings. Loading happens before the engine starts,
so a bad spec fails fast with its path.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pulumi
import pulumi_kubernetes as k8s

from lattice_pulumi import components
from lattice_pulumi.compile.context import ClusterInfo, CompileContext
from lattice_pulumi.errors import LatticeError, SpecError
from lattice_pulumi.policy import CedarAuthorizer
from lattice_pulumi.policy.sources import sources_in
from lattice_pulumi.spec import loader
from lattice_pulumi.spec.service import LatticeService as ServiceSpec

__all__ = ["Deployment", "Target", "build_program", "component_names", "load_deployment"]

PROVIDER_NAME = "lattice-kubernetes"


@dataclass(frozen=True)
class Deployment:
    """The services to deploy and the context they compile with."""

    services: tuple[ServiceSpec, ...]
    context: CompileContext
    warnings: tuple[SpecError, ...] = ()
    policy_problems: tuple[str, ...] = ()


@dataclass(frozen=True)
class Target:
    """Where the manifests go: a cluster (kubeconfig) or a folder of YAML files."""

    kubeconfig: str | None = None  # a path or the contents of a kubeconfig
    kube_context: str | None = None
    render_to: Path | None = None
    skip_await: bool = False  # apply without waiting for workloads to become ready

    def provider_args(self) -> dict[str, Any]:
        """Arguments of the Kubernetes provider; raises LatticeError if there is no target."""
        if self.render_to is not None:
            return {"render_yaml_to_directory": str(self.render_to)}
        if self.kubeconfig is None:
            raise LatticeError(
                "no target cluster: pass --kubeconfig PATH, or --render-to DIR to write the "
                "manifests without a cluster (the ambient kubeconfig is never used silently)"
            )
        args: dict[str, Any] = {"kubeconfig": self.kubeconfig, "enable_server_side_apply": True}
        if self.kube_context:
            args["context"] = self.kube_context
        return args


def load_deployment(paths: Sequence[Path], cluster: ClusterInfo | None = None) -> Deployment:
    """Every service and policy under ``paths``; raises SpecErrors listing every problem."""
    result = loader.load_paths(paths)
    result.raise_for_errors()
    authorizer = CedarAuthorizer()
    report = authorizer.reload(sources_in(result.resources))
    context = CompileContext.of(list(result.resources), cluster=cluster, authorizer=authorizer)
    services = tuple(r for r in result.resources if isinstance(r, ServiceSpec))
    if not services:
        raise LatticeError(f"no LatticeService found in {', '.join(map(str, paths))}")
    return Deployment(
        services, context, tuple(result.warnings), tuple(str(p) for p in report.problems)
    )


def component_names(services: Sequence[ServiceSpec]) -> list[str]:
    """Component names: the service name, or ``namespace-name`` when names repeat."""
    counts = Counter(s.name for s in services)
    return [s.name if counts[s.name] == 1 else f"{s.namespace}-{s.name}" for s in services]


def build_program(deployment: Deployment, target: Target) -> Callable[[], None]:
    """The inline program deploying ``deployment`` to ``target``."""
    provider_args = target.provider_args()  # fail before the engine starts

    def program() -> None:
        provider = k8s.Provider(PROVIDER_NAME, **provider_args)
        opts = pulumi.ResourceOptions(provider=provider)
        urls: dict[str, Any] = {}
        objects: dict[str, Any] = {}
        for name, spec in zip(
            component_names(deployment.services), deployment.services, strict=True
        ):
            service = components.LatticeService(
                name, spec, opts, context=deployment.context, skip_await=target.skip_await
            )
            key = f"{spec.namespace}/{spec.name}"
            urls[key] = service.url
            objects[key] = service.object_names
        findings = [str(f) for f in components.mesh_report().findings]
        for finding in findings:
            pulumi.log.warn(finding)
        pulumi.export("urls", urls)
        pulumi.export("objects", objects)
        pulumi.export("meshFindings", findings)

    return program
