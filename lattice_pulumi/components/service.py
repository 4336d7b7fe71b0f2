"""LatticeService as a Pulumi ComponentResource: one spec in, one child per compiled object.

The component only delivers: ``compile_service`` decides every object (workload, storage,
ingress, the service's own half of the bilateral mesh policy), then each object becomes its
own child resource, registered synchronously with ``parent=self`` so previews show one diff
per object and the component's providers reach every child (``components.providers``).
Values given as Pulumi Inputs travel through the compiler as sentinels and come back as
Outputs in the fields that hold them (``components.inputs``); a secret Output keeps the
property it lands in secret.

This module deliberately does not use ``from __future__ import annotations``: the
component provider host infers the schema from the class annotations at run time.
"""

import dataclasses
import hashlib
import json
from collections.abc import Sequence
from typing import Any

import pulumi

from lattice_pulumi.compile.context import ClusterInfo, CompileContext
from lattice_pulumi.compile.service import compile_service
from lattice_pulumi.compile.service.workload import CONFIG_HASH
from lattice_pulumi.components import providers, resources
from lattice_pulumi.components.cluster import (
    ClusterTarget,
    cluster_info_of,
    cluster_provider_of,
)
from lattice_pulumi.components.inputs import Placeholders, substitute_outputs
from lattice_pulumi.components.registry import ServiceRegistry, current_registry
from lattice_pulumi.components.specs import SpecInput, resolve_spec
from lattice_pulumi.errors import CompileError
from lattice_pulumi.spec.service import LatticeService as ServiceSpec

__all__ = ["TYPE_TOKEN", "LatticeService"]

TYPE_TOKEN = "lattice:index:LatticeService"


class LatticeService(pulumi.ComponentResource):
    """A Lattice service: its workload, storage, ingress and its half of the mesh policy."""

    namespace: pulumi.Output[str]
    """The namespace the service runs in."""
    service_name: pulumi.Output[str]
    """The name of the service (its Deployment and Kubernetes Service)."""
    service_account: pulumi.Output[str]
    """The ServiceAccount its pods run as (their mesh identity)."""
    host: pulumi.Output[str]
    """The in-cluster DNS name: ``name.namespace.svc.<cluster domain>``."""
    port: pulumi.Output[int]
    """The first declared service port (0 when the service declares none)."""
    url: pulumi.Output[str]
    """``http://host:port`` (empty when the service declares no port)."""
    object_names: pulumi.Output[list[str]]
    """Every generated object as ``Kind/namespace/name``, in compile order."""

    def __init__(
        self,
        name: str,
        spec: SpecInput,
        opts: pulumi.ResourceOptions | None = None,
        *,
        cluster: ClusterTarget | ClusterInfo | None = None,
        context: CompileContext | None = None,
        namespace: str | None = None,
        allow_default_provider: bool = False,
        registry: ServiceRegistry | None = None,
        skip_await: bool = False,
    ) -> None:
        placeholders = Placeholders.for_name(name)
        model = resolve_spec(name, spec, placeholders, namespace)
        services = registry or current_registry()
        compile_context = dataclasses.replace(
            _context(model, services, context, cluster_info_of(cluster)),
            opaque_marker=placeholders.marker,
        )
        objects = compile_service(model, compile_context)
        _check_identities(objects, placeholders, name)
        opts = providers.resolve_options(
            opts,
            cluster_provider_of(cluster),
            allow_default_provider=allow_default_provider,
            subject=f"LatticeService '{name}'",
        )
        super().__init__(TYPE_TOKEN, name, None, opts)
        services.add(model, name)

        self.model = model
        self.manifests = objects
        self.resources: list[pulumi.CustomResource] = []
        child_opts = pulumi.ResourceOptions(parent=self)
        for obj in _with_outputs(objects, placeholders):
            if skip_await:
                _skip_await(obj)
            child_name = resources.logical_name(name, obj, model.namespace)
            self.resources.append(resources.register_object(child_name, obj, child_opts))

        domain = compile_context.cluster.domain
        host = f"{model.name}.{model.namespace}.svc.{domain}"
        port = _first_port(model)
        account = next(
            (o["metadata"]["name"] for o in objects if o["kind"] == "ServiceAccount"), ""
        )
        self.namespace = self._after(model.namespace)
        self.service_name = self._after(model.name)
        self.service_account = self._after(account)
        self.host = self._after(host)
        self.port = self._after(port)
        self.url = self._after(f"http://{host}:{port}" if port else "")
        self.object_names = self._after([_identity(o) for o in objects])
        self.register_outputs(
            {
                "namespace": self.namespace,
                "serviceName": self.service_name,
                "serviceAccount": self.service_account,
                "host": self.host,
                "port": self.port,
                "url": self.url,
                "objectNames": self.object_names,
            }
        )

    def _after(self, value: Any) -> pulumi.Output[Any]:
        """``value`` as an Output that depends on this component (so on every child)."""
        return self.urn.apply(lambda _: value)


def _context(
    model: ServiceSpec,
    services: ServiceRegistry,
    context: CompileContext | None,
    cluster: ClusterInfo | None,
) -> CompileContext:
    if context is None:
        return services.context_for(model, cluster)
    if cluster is not None and cluster != context.cluster:
        return CompileContext(
            cluster=cluster,
            services=context.services,
            external_services=context.external_services,
            images=context.images,
            authorizer=context.authorizer,
            provisioners=context.provisioners,
        )
    return context


def _skip_await(obj: dict[str, Any]) -> None:
    """Do not wait for readiness (pulumi-kubernetes' ``pulumi.com/skipAwait``): for clusters
    where workloads cannot become ready yet, or delivery that must not block on rollouts."""
    annotations = obj["metadata"].setdefault("annotations", {})
    annotations["pulumi.com/skipAwait"] = "true"


def _identity(obj: dict[str, Any]) -> str:
    meta = obj["metadata"]
    return f"{obj['kind']}/{meta.get('namespace', '')}/{meta['name']}"


def _first_port(model: ServiceSpec) -> int:
    ports = model.spec.workload.service.ports if model.spec.workload.service else {}
    return next((p.port for p in ports.values()), 0)


def _check_identities(
    objects: Sequence[dict[str, Any]], placeholders: Placeholders, name: str
) -> None:
    for obj in objects:
        meta = obj["metadata"]
        ident = f"{meta.get('namespace', '')}/{meta['name']}"
        if placeholders.indexes_in(ident):
            raise CompileError(
                "names and namespaces must be plain values, not Pulumi Outputs",
                subject=f"LatticeService '{name}'",
            )


def _with_outputs(
    objects: Sequence[dict[str, Any]], placeholders: Placeholders
) -> list[dict[str, Any]]:
    """Objects with Outputs substituted; the config hash follows Outputs in config objects."""
    if not placeholders.outputs:
        return list(objects)
    in_config = sorted(
        {i for o in objects if o["kind"] != "Deployment" for i in placeholders.indexes_in(o)}
    )
    out = [substitute_outputs(obj, placeholders) for obj in objects]
    if in_config:
        for obj in out:
            if obj["kind"] == "Deployment":
                _rehash(obj, [placeholders.outputs[i] for i in in_config])
    return out


def _rehash(deployment: dict[str, Any], values: list[pulumi.Output[Any]]) -> None:
    """Make the pod template's config hash cover the values of Outputs in config objects."""
    template_meta = deployment["spec"]["template"].get("metadata", {})
    annotations = template_meta.get("annotations", {})
    base = annotations.get(CONFIG_HASH)
    if not isinstance(base, str):
        return

    def digest(resolved: list[Any]) -> str:
        body = json.dumps([base, *resolved], sort_keys=True, default=str)
        return hashlib.sha256(body.encode()).hexdigest()[:16]

    annotations[CONFIG_HASH] = pulumi.Output.all(*values).apply(digest)
