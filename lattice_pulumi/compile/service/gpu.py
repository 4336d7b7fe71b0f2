"""GPUs: whole devices through the NVIDIA device plugin, fractions through HAMi.

A ``gpu`` resource puts ``nvidia.com/gpu`` limits on the service's first container; with
``memory`` or ``compute`` it also asks HAMi for a slice (``nvidia.com/gpumem`` in MiB,
``nvidia.com/gpucores`` in percent). ``model`` pins the node by the GPU feature discovery
label, ``tolerations`` tolerates the usual ``nvidia.com/gpu`` taint, and every GPU pod gets a
memory-backed ``/dev/shm`` (frameworks such as PyTorch need more than the 64 MiB default).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from lattice_pulumi.spec.service import LatticeService
from lattice_pulumi.spec.service_resources import GpuResource

__all__ = ["GpuPlacement", "gpu_placement"]

_MIB = {"Ki": 1 / 1024, "Mi": 1, "Gi": 1024, "Ti": 1024 * 1024, "M": 1e6 / 2**20, "G": 1e9 / 2**20}


@dataclass
class GpuPlacement:
    limits: dict[str, str] = field(default_factory=dict)
    node_selector: dict[str, str] = field(default_factory=dict)
    tolerations: list[dict[str, Any]] = field(default_factory=list)
    volumes: list[dict[str, Any]] = field(default_factory=list)
    mounts: list[dict[str, Any]] = field(default_factory=list)


def _mebibytes(quantity: str) -> int:
    for suffix, factor in sorted(_MIB.items(), key=lambda i: -len(i[0])):
        if quantity.endswith(suffix):
            return max(1, round(float(quantity[: -len(suffix)]) * factor))
    return max(1, round(float(quantity) / 2**20))  # plain bytes


def gpu_placement(service: LatticeService) -> GpuPlacement | None:
    gpus = [d for d in service.spec.workload.resources.values() if isinstance(d, GpuResource)]
    if not gpus:
        return None
    params = gpus[0].params
    placement = GpuPlacement(limits={"nvidia.com/gpu": str(params.count)})
    if params.memory is not None:
        placement.limits["nvidia.com/gpumem"] = str(_mebibytes(params.memory))
    if params.compute is not None:
        placement.limits["nvidia.com/gpucores"] = str(params.compute)
    if params.model:
        placement.node_selector["nvidia.com/gpu.product"] = params.model
    if params.tolerations:
        placement.tolerations.append(
            {"key": "nvidia.com/gpu", "operator": "Exists", "effect": "NoSchedule"}
        )
    placement.volumes.append({"name": "dshm", "emptyDir": {"medium": "Memory"}})
    placement.mounts.append({"name": "dshm", "mountPath": "/dev/shm"})
    return placement
