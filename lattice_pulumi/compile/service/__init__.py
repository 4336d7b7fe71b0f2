"""Compile a LatticeService into every Kubernetes object it needs.

``compile_service(service, context)`` is pure: the same spec and context give the same list,
in the same order, every time (ServiceAccount, config, secrets, storage, Deployment,
Service, PodDisruptionBudget, autoscaling, ingress, progressive delivery, and the service's
own half of the bilateral mesh policy), then the objects of its provisioned Score resources
(``compile.provision``) with their mesh policies. It checks the
Cedar permits first (security overrides, secret paths, shared volumes), so a denied
service produces nothing. Used by ``lattice render``, the Pulumi components and the
operator alike.
"""

from __future__ import annotations

from typing import Any

from lattice_pulumi.compile import mesh, provision
from lattice_pulumi.compile.context import CompileContext
from lattice_pulumi.compile.service import autoscaling, deploy, ingress, secrets, security, storage
from lattice_pulumi.compile.service.workload import (
    build_deployment,
    build_pdb,
    build_pod,
    build_service,
    build_service_account,
)
from lattice_pulumi.errors import CompileError, PolicyDenied
from lattice_pulumi.spec.service import LatticeService

__all__ = ["compile_service"]


def compile_service(service: LatticeService, context: CompileContext) -> list[dict[str, Any]]:
    """Every object of ``service``; raises CompileError/PolicyDenied naming what is wrong."""
    subject = f"service {service.namespace}/{service.name}"
    try:
        return _compile(service, context)
    except CompileError as exc:
        if exc.subject or isinstance(exc, PolicyDenied):  # denials name the service already
            raise
        raise type(exc)(exc.message, subject=subject, path=exc.path) from exc


def _compile(service: LatticeService, context: CompileContext) -> list[dict[str, Any]]:
    security.authorize_overrides(service, context)
    secrets.authorize_secrets(service, context)
    pod_storage = storage.build_storage(service, context)
    template, config = build_pod(service, context, pod_storage)
    progressive = deploy.build_progressive_delivery(service, context)
    objects: list[dict[str, Any]] = [build_service_account(service), *config]
    objects += secrets.build_external_secrets(service)
    objects += pod_storage.claims
    objects.append(build_deployment(service, template))
    if service.spec.deploy.strategy == "rolling":  # otherwise Flagger owns the Service
        svc = build_service(service)
        if svc is not None:
            objects.append(svc)
    pdb = build_pdb(service)
    if pdb is not None:
        objects.append(pdb)
    objects += autoscaling.build_scaled_object(service, context)
    objects += ingress.build_ingress(service, context)
    objects += progressive
    instances = provision.instances_of(service, context)
    viewed, mesh_context = provision.consumer_view(service, instances, context)
    objects += mesh.compile_service_mesh(viewed, mesh_context)
    objects += _provisioned(service, instances, context)
    return objects


def _provisioned(
    service: LatticeService, instances: list[provision.Instance], context: CompileContext
) -> list[dict[str, Any]]:
    """Objects of the service's provisioned resources; a shared one is emitted by its first
    consumer only, with mesh policies that let exactly its consumers in."""
    own = f"{service.namespace}/{service.name}"
    found: list[dict[str, Any]] = []
    for instance in instances:
        if instance.consumers[0] != own:
            continue
        found += provision.build_objects(instance, context)
        workload = provision.mesh_service(instance)
        if workload is not None:
            found += mesh.compile_service_mesh(workload, context)
    return found
