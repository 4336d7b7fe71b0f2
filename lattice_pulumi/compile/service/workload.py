"""The workload objects of a service: ServiceAccount, Deployment, Service, PodDisruptionBudget.

``build_pod`` assembles the pod template from the container builders, storage, GPU placement,
security and backup annotations; the ``lattice.dev/config-hash`` annotation covers every
ConfigMap and ExternalSecret the pod reads (not secret values: those are not known here),
so a changed variable, file or secret reference rolls the Deployment.
Service ports are served by the first container unless another container's probe targets
the port (then that container serves it).
"""

from __future__ import annotations

import hashlib
import json
from typing import Any

from lattice_pulumi.compile import labels
from lattice_pulumi.compile.apiversions import header
from lattice_pulumi.compile.context import CompileContext
from lattice_pulumi.compile.service import backup, deploy
from lattice_pulumi.compile.service.containers import ContainerParts, build_container
from lattice_pulumi.compile.service.gpu import gpu_placement
from lattice_pulumi.compile.service.secrets import secret_name
from lattice_pulumi.compile.service.security import pod_security_context
from lattice_pulumi.compile.service.storage import PodStorage
from lattice_pulumi.spec.service import LatticeService
from lattice_pulumi.spec.service_containers import Container

__all__ = [
    "CONFIG_HASH",
    "build_deployment",
    "build_pdb",
    "build_pod",
    "build_service",
    "build_service_account",
]

CONFIG_HASH = "lattice.dev/config-hash"


def _meta(kind: str, service: LatticeService, name: str | None = None) -> dict[str, Any]:
    obj = header(kind, name or service.name, service.namespace)
    obj["metadata"]["labels"] = labels.service_labels(service.name)
    return obj


def build_service_account(service: LatticeService) -> dict[str, Any]:
    obj = _meta("ServiceAccount", service)
    obj["automountServiceAccountToken"] = False
    return obj


def _probe_ports(container: Container) -> set[int]:
    found = set()
    for probe in (container.liveness_probe, container.readiness_probe, container.startup_probe):
        if probe is None:
            continue
        action = probe.http_get or probe.tcp_socket or probe.grpc
        if action is not None and isinstance(action.port, int):
            found.add(action.port)
    return found


def _ports_by_container(service: LatticeService) -> dict[str, list[dict[str, Any]]]:
    ports = service.spec.workload.service.ports if service.spec.workload.service else {}
    containers = service.spec.workload.containers
    first = next(iter(containers))
    by_container: dict[str, list[dict[str, Any]]] = {}
    for port_name, port in ports.items():
        owner = next(
            (n for n, c in containers.items() if port.container_port in _probe_ports(c)), first
        )
        by_container.setdefault(owner, []).append(
            {"name": port_name, "containerPort": port.container_port, "protocol": port.protocol}
        )
    return by_container


def build_pod(
    service: LatticeService, context: CompileContext, storage: PodStorage
) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """The pod template and the ConfigMaps/ExternalSecrets its containers need."""
    spec = service.spec
    gpu = gpu_placement(service)
    ports = _ports_by_container(service)
    first = next(iter(spec.workload.containers))
    containers: list[dict[str, Any]] = []
    init_containers: list[dict[str, Any]] = []
    objects: list[dict[str, Any]] = []
    volumes: list[dict[str, Any]] = [*storage.volumes]
    for path, name, container in spec.iter_containers():
        extra = list(storage.mounts.get(name, []))
        if gpu is not None and name == first:
            extra += gpu.mounts
        parts: ContainerParts = build_container(
            service, name, container, context, ("spec", *path), ports.get(name, []), extra
        )
        if gpu is not None and name == first:
            resources = parts.container.setdefault("resources", {})
            resources.setdefault("limits", {}).update(gpu.limits)
        objects += parts.objects
        volumes += parts.volumes
        is_init = getattr(container, "init", False)
        (init_containers if is_init else containers).append(parts.container)
    pod: dict[str, Any] = {
        "serviceAccountName": service.name,
        "automountServiceAccountToken": False,
        "securityContext": pod_security_context(service),
        "containers": containers,
    }
    if init_containers:
        pod["initContainers"] = init_containers
    if gpu is not None:
        volumes += gpu.volumes
        if gpu.node_selector:
            pod["nodeSelector"] = gpu.node_selector
        if gpu.tolerations:
            pod["tolerations"] = gpu.tolerations
    if volumes:
        pod["volumes"] = volumes
    pull = [{"name": secret_name(service, s)} for s in spec.image_pull_secrets]
    if pull:
        pod["imagePullSecrets"] = pull
    if spec.host_network:
        pod["hostNetwork"] = True
    if spec.share_process_namespace:
        pod["shareProcessNamespace"] = True
    if storage.affinity_to:
        pod["affinity"] = _affinity(storage.affinity_to)
    annotations = {**backup.backup_annotations(service), CONFIG_HASH: _config_hash(objects)}
    template = {
        "metadata": {"labels": labels.service_labels(service.name), "annotations": annotations},
        "spec": pod,
    }
    return template, objects


def _affinity(owners: list[str]) -> dict[str, Any]:
    terms = [
        {
            "labelSelector": {"matchLabels": labels.pod_selector(owner)},
            "topologyKey": "kubernetes.io/hostname",
        }
        for owner in sorted(set(owners))
    ]
    return {"podAffinity": {"requiredDuringSchedulingIgnoredDuringExecution": terms}}


def _config_hash(objects: list[dict[str, Any]]) -> str:
    body = [
        {k: v for k, v in obj.items() if k != "metadata"} | {"name": obj["metadata"]["name"]}
        for obj in objects
    ]
    digest = hashlib.sha256(json.dumps(body, sort_keys=True).encode()).hexdigest()
    return digest[:16]


def build_deployment(service: LatticeService, template: dict[str, Any]) -> dict[str, Any]:
    obj = _meta("Deployment", service)
    spec: dict[str, Any] = {
        "selector": {"matchLabels": labels.selector(service.name)},
        "strategy": deploy.deployment_strategy(service),
        "revisionHistoryLimit": 5,
        "template": template,
    }
    if service.spec.autoscaling is None:  # KEDA owns replicas when autoscaling
        spec = {"replicas": service.spec.replicas, **spec}
    obj["spec"] = spec
    return obj


def build_service(service: LatticeService) -> dict[str, Any] | None:
    ports = service.spec.workload.service.ports if service.spec.workload.service else {}
    if not ports:
        return None
    obj = _meta("Service", service)
    obj["spec"] = {
        "type": "ClusterIP",
        "selector": labels.selector(service.name),
        "ports": [
            {
                "name": name,
                "port": port.port,
                "targetPort": port.container_port,
                "protocol": port.protocol,
            }
            for name, port in ports.items()
        ],
    }
    return obj


def build_pdb(service: LatticeService) -> dict[str, Any] | None:
    spec = service.spec
    low = spec.autoscaling.min if spec.autoscaling and spec.autoscaling.min is not None else None
    if max(spec.replicas, low or 0) < 2:
        return None
    obj = _meta("PodDisruptionBudget", service)
    selector = labels.pod_selector(service.name)
    obj["spec"] = {"maxUnavailable": 1, "selector": {"matchLabels": selector}}
    return obj
