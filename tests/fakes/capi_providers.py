"""``FakeCapiProviders``: the Cluster API providers that cannot run here, played in a thread.

Only the Cluster API *core* manager runs on a test plane (``harness.capi_manager``). The
kubeadm control-plane and bootstrap providers and the Docker infrastructure provider need
real machines (containers with kubelets), which this machine cannot start; so this thread
writes what they would, every ``interval`` seconds, through the API server:

* **DockerCluster** (CAPD): a control-plane endpoint and ``initialization.provisioned``.
* **KubeadmControlPlane** (KCP): ``status.version`` follows ``spec.version`` once a change
  has been seen for ``control_plane_rollout`` seconds (a rolling upgrade takes a while);
  replicas, ready and up-to-date counts equal ``spec.replicas`` (no control-plane Machines
  are made; their count is only what KCP reports), ``initialization`` says initialized.
* **KubeadmConfig** (kubeadm bootstrap): ``dataSecretName`` and ``dataSecretCreated``.
* **DockerMachine** (CAPD): a ``providerID`` and ``initialization.provisioned``.
* **Node** (the kubelet that would join): one per Machine that has a ``providerID``, with
  the pool label the KubeadmConfigTemplate's ``node-labels`` would set, ``Ready=True`` and no
  pressure conditions (heartbeat refreshed, so the node lifecycle controller keeps it ready).

Everything else (MachineDeployment -> MachineSet -> Machine, node references, machine
deletion and drain, Cluster phase, MachineHealthChecks) is the real core controllers' work.
"""

from __future__ import annotations

import datetime
import threading
import time
from typing import Any

from harness.kube import ApiError, KubeClient

__all__ = ["FakeCapiProviders"]

CORE = "cluster.x-k8s.io/v1beta2"
KCP = "controlplane.cluster.x-k8s.io/v1beta2"
BOOTSTRAP = "bootstrap.cluster.x-k8s.io/v1beta2"
INFRA = "infrastructure.cluster.x-k8s.io/v1beta2"
MERGE = "application/merge-patch+json"


def _now() -> str:
    return datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


class FakeCapiProviders:
    """Plays KCP, CAPD, the kubeadm bootstrap provider and kubelets for one namespace."""

    def __init__(
        self,
        client: KubeClient,
        namespace: str,
        endpoint: tuple[str, int],
        *,
        interval: float = 0.3,
        control_plane_rollout: float = 2.0,
    ) -> None:
        self.client = client
        self.namespace = namespace
        self.endpoint = endpoint
        self.interval = interval
        self.control_plane_rollout = control_plane_rollout
        self.errors: list[str] = []
        self._seen_spec: dict[str, tuple[str, float]] = {}
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, name="fake-capi-providers", daemon=True)

    def start(self) -> FakeCapiProviders:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(10)

    def _loop(self) -> None:
        beat = 0
        while not self._stop.is_set():
            try:
                self.tick(heartbeat=beat % 15 == 0)
            except (ApiError, LookupError, OSError, KeyError) as exc:
                # a conflict, an object deleted meanwhile, a kind not served yet: next tick
                self.errors.append(f"{type(exc).__name__}: {exc}")
            beat += 1
            self._stop.wait(self.interval)

    def _list(self, api_version: str, kind: str, namespace: str | None) -> list[dict[str, Any]]:
        """Items of a list, with the apiVersion and kind a list's items do not carry."""
        items = self.client.list(api_version, kind, namespace)
        return [{**item, "apiVersion": api_version, "kind": kind} for item in items]

    def _patch_status(self, obj: dict[str, Any], status: dict[str, Any]) -> None:
        meta = obj["metadata"]
        path = self.client.path(obj["apiVersion"], obj["kind"], meta["name"], meta.get("namespace"))
        self.client.request("PATCH", f"{path}/status", {"status": status}, content_type=MERGE)

    def _patch(self, obj: dict[str, Any], body: dict[str, Any]) -> None:
        meta = obj["metadata"]
        path = self.client.path(obj["apiVersion"], obj["kind"], meta["name"], meta.get("namespace"))
        self.client.request("PATCH", path, body, content_type=MERGE)

    def tick(self, *, heartbeat: bool = False) -> None:
        self._infrastructure_clusters()
        self._control_planes()
        for config in self._list(BOOTSTRAP, "KubeadmConfig", self.namespace):
            if not (config.get("status") or {}).get("dataSecretName"):
                self._patch_status(
                    config,
                    {
                        "dataSecretName": config["metadata"]["name"],
                        "initialization": {"dataSecretCreated": True},
                    },
                )
        for machine in self._list(INFRA, "DockerMachine", self.namespace):
            if not (machine.get("spec") or {}).get("providerID"):
                self._patch(
                    machine, {"spec": {"providerID": f"docker:////{machine['metadata']['name']}"}}
                )
                self._patch_status(machine, {"initialization": {"provisioned": True}})
        self._nodes(heartbeat)

    def _infrastructure_clusters(self) -> None:
        host, port = self.endpoint
        for cluster in self._list(INFRA, "DockerCluster", self.namespace):
            if not ((cluster.get("status") or {}).get("initialization") or {}).get("provisioned"):
                self._patch(
                    cluster, {"spec": {"controlPlaneEndpoint": {"host": host, "port": port}}}
                )
                self._patch_status(cluster, {"initialization": {"provisioned": True}})

    def _control_planes(self) -> None:
        for plane in self._list(KCP, "KubeadmControlPlane", self.namespace):
            name, spec = plane["metadata"]["name"], plane["spec"]
            status = plane.get("status") or {}
            seen = self._seen_spec.get(name)
            if seen is None or seen[0] != spec["version"]:
                seen = self._seen_spec[name] = (spec["version"], time.monotonic())
            rolled = status.get("version") is None or (
                time.monotonic() - seen[1] >= self.control_plane_rollout
            )
            replicas = spec.get("replicas", 1)
            want = {
                "observedGeneration": plane["metadata"]["generation"],
                "replicas": replicas,
                "readyReplicas": replicas,
                "availableReplicas": replicas,
                "upToDateReplicas": replicas if rolled else 0,
                "version": spec["version"] if rolled else status.get("version"),
                "initialization": {"controlPlaneInitialized": True},
            }
            if any(status.get(key) != value for key, value in want.items()):
                self._patch_status(plane, want)

    def _nodes(self, heartbeat: bool) -> None:
        nodes = {n["metadata"]["name"]: n for n in self._list("v1", "Node", None)}
        for machine in self.client.list(CORE, "Machine", self.namespace):
            provider_id = (machine.get("spec") or {}).get("providerID")
            name = machine["metadata"]["name"]
            if not provider_id or machine["metadata"].get("deletionTimestamp"):
                continue
            if name not in nodes:
                pool = machine["metadata"].get("labels", {}).get("lattice.dev/pool", "")
                node = self.client.create(
                    {
                        "apiVersion": "v1",
                        "kind": "Node",
                        "metadata": {"name": name, "labels": {"lattice.dev/pool": pool}},
                        "spec": {"providerID": provider_id},
                    }
                )
                self._ready(
                    {**node, "apiVersion": "v1", "kind": "Node"}, machine["spec"].get("version", "")
                )
            elif heartbeat:
                self._ready(nodes[name], machine["spec"].get("version", ""))

    def _ready(self, node: dict[str, Any], version: str) -> None:
        """The four conditions a kubelet reports: Ready, and no memory/disk/PID pressure."""
        now = _now()
        conditions = [
            {
                "type": kind,
                "status": status,
                "reason": reason,
                "message": "played by FakeCapiProviders",
                "lastHeartbeatTime": now,
                "lastTransitionTime": now,
            }
            for kind, status, reason in (
                ("Ready", "True", "KubeletReady"),
                ("MemoryPressure", "False", "KubeletHasSufficientMemory"),
                ("DiskPressure", "False", "KubeletHasNoDiskPressure"),
                ("PIDPressure", "False", "KubeletHasSufficientPID"),
            )
        ]
        self._patch_status(
            node, {"conditions": conditions, "nodeInfo": {"kubeletVersion": version}}
        )
