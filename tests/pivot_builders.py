"""Builders of Cluster API object sets for pivot tests (unit and integration).

:class:`ObjectSet` adds objects with stable made-up UIDs (``uid:<Kind>/<name>``) and
ownerReferences to objects added before; :func:`workload_cluster` builds what a running
kubeadm cluster has in its management cluster: Cluster, infrastructure cluster, control
plane, MachineDeployment, MachineSet, Machines, KubeadmConfigs, infrastructure machines and
the Secrets (kubeconfig, ca, etcd, sa, proxy, bootstrap data).
"""

from __future__ import annotations

import base64
from typing import Any

Object = dict[str, Any]

CAPI = "cluster.x-k8s.io/v1beta2"
INFRA = "infrastructure.cluster.x-k8s.io/v1beta1"
CONTROL_PLANE = "controlplane.cluster.x-k8s.io/v1beta2"
BOOTSTRAP = "bootstrap.cluster.x-k8s.io/v1beta2"


def uid_of(obj: Object) -> str:
    return str(obj["metadata"]["uid"])


def ident(obj: Object) -> str:
    """``Kind ns/name``, as ObjectRef prints."""
    meta = obj["metadata"]
    where = f"{meta['namespace']}/{meta['name']}" if meta.get("namespace") else meta["name"]
    return f"{obj['kind']} {where}"


class ObjectSet:
    """Objects in one namespace (none: cluster-scoped), in the order added."""

    def __init__(self, namespace: str = "capi") -> None:
        self.namespace = namespace
        self.objects: list[Object] = []

    def add(
        self,
        api_version: str,
        kind: str,
        name: str,
        *,
        owners: tuple[Object, ...] = (),
        labels: dict[str, str] | None = None,
        **body: Any,
    ) -> Object:
        meta: dict[str, Any] = {"name": name, "uid": f"uid:{kind}/{name}"}
        if self.namespace:  # ObjectSet(""): cluster-scoped objects
            meta["namespace"] = self.namespace
        if labels:
            meta["labels"] = labels
        if owners:
            meta["ownerReferences"] = [
                {
                    "apiVersion": o["apiVersion"],
                    "kind": o["kind"],
                    "name": o["metadata"]["name"],
                    "uid": uid_of(o),
                    **({"controller": True, "blockOwnerDeletion": True} if i == 0 else {}),
                }
                for i, o in enumerate(owners)
            ]
        obj: Object = {"apiVersion": api_version, "kind": kind, "metadata": meta, **body}
        self.objects.append(obj)
        return obj

    def secret(self, name: str, *, owners: tuple[Object, ...] = (), **labels: str) -> Object:
        value = base64.b64encode(f"data of {name}".encode()).decode()
        return self.add(
            "v1",
            "Secret",
            name,
            owners=owners,
            labels=labels or None,
            data={"value": value},
            type="cluster.x-k8s.io/secret",
        )


def workload_cluster(objects: ObjectSet, name: str = "dev", machines: int = 2) -> ObjectSet:
    """A provisioned kubeadm cluster's objects (Docker infrastructure), added to ``objects``."""
    label = {"cluster.x-k8s.io/cluster-name": name}
    cluster = objects.add(
        CAPI,
        "Cluster",
        name,
        labels=label,
        spec={
            "controlPlaneRef": {
                "apiGroup": "controlplane.cluster.x-k8s.io",
                "kind": "KubeadmControlPlane",
                "name": f"{name}-cp",
            }
        },
        status={
            "initialization": {"infrastructureProvisioned": True, "controlPlaneInitialized": True}
        },
    )
    objects.add(
        INFRA,
        "DockerCluster",
        name,
        owners=(cluster,),
        labels=label,
        spec={},
        status={"ready": True},
    )
    control_plane = objects.add(
        CONTROL_PLANE,
        "KubeadmControlPlane",
        f"{name}-cp",
        owners=(cluster,),
        labels=label,
        spec={
            "version": "v1.34.0",
            "replicas": 1,
            "machineTemplate": {
                "spec": {
                    "infrastructureRef": {
                        "apiGroup": "infrastructure.cluster.x-k8s.io",
                        "kind": "DockerMachineTemplate",
                        "name": f"{name}-cp",
                    }
                }
            },
        },
    )
    deployment = objects.add(
        CAPI,
        "MachineDeployment",
        f"{name}-md",
        owners=(cluster,),
        labels=label,
        spec=_machine_spec(name, replicas=machines),
    )
    machine_set = objects.add(
        CAPI,
        "MachineSet",
        f"{name}-md-abc12",
        owners=(deployment,),
        labels=label,
        spec=_machine_spec(name, replicas=machines),
    )
    objects.secret(f"{name}-kubeconfig", owners=(control_plane,), **label)
    for purpose in ("ca", "etcd", "sa", "proxy"):
        objects.secret(f"{name}-{purpose}", **label)
    for index in range(machines):
        add_machine(objects, name, f"{name}-md-abc12-{index}", machine_set, label)
    return objects


def _machine_spec(cluster: str, replicas: int) -> Object:
    return {
        "clusterName": cluster,
        "replicas": replicas,
        "selector": {"matchLabels": {"pool": "md"}},
        "template": {
            "metadata": {"labels": {"pool": "md"}},
            "spec": {
                "clusterName": cluster,
                "bootstrap": {
                    "configRef": {
                        "apiGroup": "bootstrap.cluster.x-k8s.io",
                        "kind": "KubeadmConfigTemplate",
                        "name": "md",
                    }
                },
                "infrastructureRef": {
                    "apiGroup": "infrastructure.cluster.x-k8s.io",
                    "kind": "DockerMachineTemplate",
                    "name": "md",
                },
            },
        },
    }


def machine_spec(cluster: str, name: str, kind: str = "DockerMachine") -> Object:
    """A Machine's spec: its KubeadmConfig and infrastructure machine, both named ``name``."""
    return {
        "clusterName": cluster,
        "bootstrap": {
            "configRef": {
                "apiGroup": "bootstrap.cluster.x-k8s.io",
                "kind": "KubeadmConfig",
                "name": name,
            }
        },
        "infrastructureRef": {
            "apiGroup": "infrastructure.cluster.x-k8s.io",
            "kind": kind,
            "name": name,
        },
    }


def add_machine(
    objects: ObjectSet,
    cluster: str,
    name: str,
    owner: Object,
    label: dict[str, str],
    infra: tuple[str, str] = (INFRA, "DockerMachine"),
    infra_spec: Object | None = None,
) -> None:
    """A running Machine (with a node) owned by ``owner``, its KubeadmConfig, its
    infrastructure machine (``infra``: apiVersion, kind) and its bootstrap data Secret."""
    machine = objects.add(
        CAPI,
        "Machine",
        name,
        owners=(owner,),
        labels=label,
        spec=machine_spec(cluster, name, infra[1]),
        status={"nodeRef": {"name": name}},
    )
    config = objects.add(
        BOOTSTRAP,
        "KubeadmConfig",
        name,
        owners=(machine,),
        labels=label,
        spec={"format": "cloud-config"},
    )
    objects.add(*infra, name, owners=(machine,), labels=label, spec=infra_spec or {})
    objects.secret(name, owners=(config,), **label)
