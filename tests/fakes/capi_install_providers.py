"""``FakeClusterAPIProviders``: the infrastructure, bootstrap and control-plane providers of
a Docker cluster, played by the test.

Why a fake: no Cluster API infrastructure provider can run here (CAPD needs Docker, the
others a cloud), and the kubeadm providers turn machines into nodes by running kubeadm on
them. The core controllers are the real ``cluster-api-manager``; this thread only writes
what the missing providers would write, at their contract fields (v1beta2), on whatever
cluster currently holds the objects:

* DockerCluster: ``spec.controlPlaneEndpoint`` (the second control plane's address) and
  ``status.initialization.provisioned``;
* the ``<cluster>-kubeconfig`` Secret pointing at the second control plane (what KCP
  writes), owned by the Cluster;
* KubeadmControlPlane: ``status.initialization.controlPlaneInitialized`` and its replica
  counts (no control-plane Machines: that is KCP's own controller);
* each KubeadmConfig the core MachineSet controller made: a bootstrap data Secret it owns,
  ``status.dataSecretName`` and ``initialization.dataSecretCreated``;
* each DockerMachine: ``spec.providerID`` and ``status.initialization.provisioned``;
* for each Machine with a providerID: a Node with that providerID in the second control
  plane (a kubelet would register it), which the real Machine controller then finds;
* the Helm add-on provider (CAAPH: no Helm and no pods here): once a HelmChartProxy
  exists, what its chart would install appears in the second plane (``on_release(name)``,
  called once per HelmChartProxy, given by the test: the charts' CRDs).
"""

from __future__ import annotations

import base64
import threading
from collections.abc import Callable
from typing import Any

from harness.kube import KubeClient

__all__ = ["FakeClusterAPIProviders"]

INFRA = "infrastructure.cluster.x-k8s.io/v1beta2"
BOOTSTRAP = "bootstrap.cluster.x-k8s.io/v1beta2"
CONTROL_PLANE = "controlplane.cluster.x-k8s.io/v1beta2"
CAPI = "cluster.x-k8s.io/v1beta2"
ADDONS = "addons.cluster.x-k8s.io/v1alpha1"
_MERGE = "application/merge-patch+json"


def _owner(obj: dict[str, Any]) -> dict[str, Any]:
    return {
        "apiVersion": obj["apiVersion"],
        "kind": obj["kind"],
        "name": obj["metadata"]["name"],
        "uid": obj["metadata"]["uid"],
    }


class FakeClusterAPIProviders:
    """A thread writing the providers' part for one cluster, on whichever plane holds it."""

    def __init__(
        self,
        planes: list[KubeClient],
        workload: KubeClient,
        kubeconfig: str,
        cluster: str,
        namespace: str,
    ) -> None:
        self.planes, self.workload = planes, workload
        self.kubeconfig, self.cluster, self.namespace = kubeconfig, cluster, namespace
        self.errors: list[str] = []
        self.on_release: Callable[[str], None] = lambda name: None
        self.released: set[str] = set()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, daemon=True)

    def __enter__(self) -> FakeClusterAPIProviders:
        self._thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self._stop.set()
        self._thread.join(10)

    def _loop(self) -> None:
        while not self._stop.wait(0.5):
            for plane in self.planes:
                try:
                    self._tick(plane)
                except Exception as exc:  # objects and kinds come and go in a move: next tick
                    self.errors = [*self.errors[-20:], f"{type(exc).__name__}: {exc}"[:300]]

    def _patch(
        self,
        plane: KubeClient,
        api: str,
        kind: str,
        name: str,
        body: dict[str, Any],
        status: bool = False,
    ) -> None:
        path = plane.path(api, kind, name, self.namespace) + ("/status" if status else "")
        plane.request("PATCH", path, body, content_type=_MERGE)

    def _tick(self, plane: KubeClient) -> None:
        cluster = plane.find(CAPI, "Cluster", self.cluster, self.namespace)
        if cluster is None or (cluster.get("spec") or {}).get("paused"):
            return  # not here, or being moved: providers leave paused clusters alone
        if cluster["metadata"].get("deletionTimestamp"):
            return  # being deleted: the core controllers take it down
        self._addons(plane)
        self._infrastructure(plane, cluster)
        self._control_plane(plane, cluster)
        for config in plane.list(BOOTSTRAP, "KubeadmConfig", self.namespace):
            self._bootstrap(plane, config)
        for machine in plane.list(INFRA, "DockerMachine", self.namespace):
            if not (machine.get("status") or {}).get("initialization", {}).get("provisioned"):
                name = machine["metadata"]["name"]
                self._patch(
                    plane,
                    INFRA,
                    "DockerMachine",
                    name,
                    {"spec": {"providerID": f"docker:////{name}"}},
                )
                self._patch(
                    plane,
                    INFRA,
                    "DockerMachine",
                    name,
                    {"status": {"initialization": {"provisioned": True}}},
                    status=True,
                )
        for machine in plane.list(CAPI, "Machine", self.namespace):
            provider_id = (machine.get("spec") or {}).get("providerID")
            name = machine["metadata"]["name"]
            deleting = machine["metadata"].get("deletionTimestamp")
            if provider_id and not deleting and self.workload.find("v1", "Node", name) is None:
                self.workload.create(
                    {
                        "apiVersion": "v1",
                        "kind": "Node",
                        "metadata": {"name": name},
                        "spec": {"providerID": provider_id},
                    }
                )

    def _addons(self, plane: KubeClient) -> None:
        for release in plane.list(ADDONS, "HelmChartProxy", self.namespace):
            name = release["metadata"]["name"]
            if name not in self.released:
                self.on_release(name)
                self.released.add(name)

    def _infrastructure(self, plane: KubeClient, cluster: dict[str, Any]) -> None:
        name = cluster["spec"]["infrastructureRef"]["name"]
        infra = plane.find(INFRA, "DockerCluster", name, self.namespace)
        if infra is None or (infra.get("status") or {}).get("initialization"):
            return
        host, port = self.workload.server.removeprefix("https://").rsplit(":", 1)
        self._patch(
            plane,
            INFRA,
            "DockerCluster",
            name,
            {"spec": {"controlPlaneEndpoint": {"host": host, "port": int(port)}}},
        )
        self._patch(
            plane,
            INFRA,
            "DockerCluster",
            name,
            {"status": {"initialization": {"provisioned": True}}},
            status=True,
        )

    def _control_plane(self, plane: KubeClient, cluster: dict[str, Any]) -> None:
        secret = f"{self.cluster}-kubeconfig"
        if plane.find("v1", "Secret", secret, self.namespace) is None:
            plane.create(
                {
                    "apiVersion": "v1",
                    "kind": "Secret",
                    "type": "cluster.x-k8s.io/secret",
                    "metadata": {
                        "name": secret,
                        "namespace": self.namespace,
                        "labels": {"cluster.x-k8s.io/cluster-name": self.cluster},
                        "ownerReferences": [_owner(cluster)],
                    },
                    "data": {"value": base64.b64encode(self.kubeconfig.encode()).decode()},
                }
            )
        name = cluster["spec"]["controlPlaneRef"]["name"]
        control = plane.find(CONTROL_PLANE, "KubeadmControlPlane", name, self.namespace)
        if control is None or (control.get("status") or {}).get("initialization"):
            return
        replicas = int(control["spec"].get("replicas", 1))
        status = {
            "initialization": {"controlPlaneInitialized": True},
            "replicas": replicas,
            "readyReplicas": replicas,
            "availableReplicas": replicas,
            "upToDateReplicas": replicas,
            "version": control["spec"].get("version"),
        }
        self._patch(
            plane, CONTROL_PLANE, "KubeadmControlPlane", name, {"status": status}, status=True
        )

    def _bootstrap(self, plane: KubeClient, config: dict[str, Any]) -> None:
        if (config.get("status") or {}).get("dataSecretName"):
            return
        name = config["metadata"]["name"]
        if plane.find("v1", "Secret", name, self.namespace) is None:
            plane.create(
                {
                    "apiVersion": "v1",
                    "kind": "Secret",
                    "type": "cluster.x-k8s.io/secret",
                    "metadata": {
                        "name": name,
                        "namespace": self.namespace,
                        "labels": {"cluster.x-k8s.io/cluster-name": self.cluster},
                        "ownerReferences": [_owner(config)],
                    },
                    "data": {
                        "value": base64.b64encode(b"#cloud-config\n").decode(),
                        "format": base64.b64encode(b"cloud-config").decode(),
                    },
                }
            )
        status = {"dataSecretName": name, "initialization": {"dataSecretCreated": True}}
        self._patch(plane, BOOTSTRAP, "KubeadmConfig", name, {"status": status}, status=True)
