"""Rules across a LatticeCluster spec that report a precise field path.

``LatticeCluster.check`` calls ``check_spec``; every rule returns all of its findings, with
paths relative to ``spec`` written as on the wire (camelCase). Rules:

- pod, service and node CIDRs are pairwise disjoint, and the load-balancer CIDR overlaps
  neither pod nor service CIDR; a node or load-balancer CIDR given both in ``networking`` and
  in the provider block must agree;
- a Proxmox IP pool holds the control plane plus every pool at its maximum plus one spare
  address for rolling upgrades, and ``proxmox.pools`` sizes only pools that exist;
- node groups are sized the way the provider can honour (``instanceType`` required on AWS,
  unused on Proxmox and Docker; ``rootVolume`` fits the provider);
- a pool with ``gpu: true`` needs ``spec.gpu.enabled``; the reverse is a warning.
"""

from __future__ import annotations

import ipaddress
from typing import TYPE_CHECKING

from lattice_pulumi.errors import FieldPath, SpecError
from lattice_pulumi.spec.cluster_providers import EBS_VOLUME_TYPES

if TYPE_CHECKING:
    from lattice_pulumi.spec.cluster import LatticeClusterSpec, RootVolume

__all__ = ["check_spec"]

_CONFIG: FieldPath = ("provider", "config")


def check_spec(spec: LatticeClusterSpec) -> list[SpecError]:
    """Every finding of every rule, in a stable order."""
    return [
        *_check_cidrs(spec),
        *_check_proxmox_pool(spec),
        *_check_node_sizing(spec),
        *_check_gpu(spec),
    ]


def _pick(
    spec_value: str | None,
    provider_value: str | None,
    provider_path: FieldPath,
    spec_path: FieldPath,
    errors: list[SpecError],
) -> tuple[str, FieldPath] | None:
    """The effective range of a setting both ``networking`` and the provider block may hold."""
    if spec_value and provider_value and spec_value != provider_value:
        errors.append(
            SpecError(
                f"{provider_value} differs from {spec_value} at spec.{_dotted(spec_path)}; "
                "set the range in one place or make them equal",
                provider_path,
            )
        )
    if spec_value:
        return spec_value, spec_path
    if provider_value:
        return provider_value, provider_path
    return None


def _check_cidrs(spec: LatticeClusterSpec) -> list[SpecError]:
    errors: list[SpecError] = []
    net = spec.networking
    config = spec.provider.config
    openstack_node = config.openstack.node_cidr if config.openstack else None
    docker_lb = config.docker.lb_cidr if config.docker else None
    node = _pick(
        net.node_cidr,
        openstack_node,
        (*_CONFIG, "openstack", "nodeCidr"),
        ("networking", "nodeCidr"),
        errors,
    )
    lb = _pick(
        net.lb_cidr, docker_lb, (*_CONFIG, "docker", "lbCidr"), ("networking", "lbCidr"), errors
    )
    ranges: dict[str, tuple[str, FieldPath] | None] = {
        "pod": (net.pod_cidr, ("networking", "podCidr")),
        "service": (net.service_cidr, ("networking", "serviceCidr")),
        "node": node,
        "load-balancer": lb,
    }
    pairs = [
        ("pod", "service"),
        ("pod", "node"),
        ("service", "node"),
        ("pod", "load-balancer"),
        ("service", "load-balancer"),
    ]
    for first, second in pairs:
        a, b = ranges[first], ranges[second]
        if a is None or b is None:
            continue
        net_a, net_b = ipaddress.ip_network(a[0]), ipaddress.ip_network(b[0])
        if net_a.version == net_b.version and net_a.overlaps(net_b):
            where = f"spec.{_dotted(a[1])}"
            errors.append(
                SpecError(
                    f"{second} CIDR {b[0]} overlaps the {first} CIDR {a[0]} at {where}; "
                    "expected disjoint ranges",
                    b[1],
                )
            )
    return errors


def _dotted(path: FieldPath) -> str:
    return ".".join(map(str, path))


def _check_proxmox_pool(spec: LatticeClusterSpec) -> list[SpecError]:
    proxmox = spec.provider.config.proxmox
    if proxmox is None:
        return []
    unknown = [
        SpecError(
            f"no worker pool named '{name}' in spec.nodes.workerPools: size an existing pool",
            (*_CONFIG, "proxmox", "pools", name),
        )
        for name in proxmox.pools
        if name not in spec.nodes.worker_pools
    ]
    return unknown + _check_proxmox_addresses(spec)


def _check_proxmox_addresses(spec: LatticeClusterSpec) -> list[SpecError]:
    proxmox = spec.provider.config.proxmox
    assert proxmox is not None
    control_plane = spec.nodes.control_plane.replicas
    workers = sum(pool.most_nodes for pool in spec.nodes.worker_pools.values())
    needed = control_plane + workers + 1
    usable = proxmox.ipv4_pool.usable_count()
    if usable >= needed:
        return []
    return [
        SpecError(
            f"the pool has {usable} usable addresses but the cluster needs {needed}: "
            f"{control_plane} control plane + {workers} workers (autoscaled pools at max) "
            "+ 1 spare for rolling upgrades",
            (*_CONFIG, "proxmox", "ipv4Pool", "addresses"),
        )
    ]


def _node_groups(spec: LatticeClusterSpec) -> list[tuple[FieldPath, str | None, RootVolume | None]]:
    groups: list[tuple[FieldPath, str | None, RootVolume | None]] = [
        (
            ("nodes", "controlPlane"),
            spec.nodes.control_plane.instance_type,
            spec.nodes.control_plane.root_volume,
        )
    ]
    for name, pool in spec.nodes.worker_pools.items():
        groups.append((("nodes", "workerPools", name), pool.instance_type, pool.root_volume))
    return groups


def _check_node_sizing(spec: LatticeClusterSpec) -> list[SpecError]:
    provider = spec.provider.config.type
    errors: list[SpecError] = []
    for path, instance_type, root_volume in _node_groups(spec):
        if provider == "aws" and not instance_type:
            errors.append(
                SpecError(
                    "instanceType is required with the aws provider (for example m6i.xlarge)",
                    (*path, "instanceType"),
                )
            )
        if provider in ("proxmox", "docker") and instance_type:
            message = f"instanceType is not used by the {provider} provider"
            if provider == "proxmox":
                message += (
                    "; size machines with spec.provider.config.proxmox cores, memoryMiB and diskGiB"
                )
            errors.append(SpecError(message, (*path, "instanceType")))
        if root_volume is None:
            continue
        if provider == "docker":
            errors.append(
                SpecError("rootVolume is not used by the docker provider", (*path, "rootVolume"))
            )
        elif provider == "proxmox" and root_volume.type is not None:
            errors.append(
                SpecError(
                    "the proxmox provider sets only the size of a root volume; remove type",
                    (*path, "rootVolume", "type"),
                )
            )
        elif provider == "aws" and root_volume.type not in (None, *EBS_VOLUME_TYPES):
            errors.append(
                SpecError(
                    f"'{root_volume.type}' is not an EBS volume type: expected one of "
                    f"{', '.join(EBS_VOLUME_TYPES)}",
                    (*path, "rootVolume", "type"),
                )
            )
    return errors


def _check_gpu(spec: LatticeClusterSpec) -> list[SpecError]:
    gpu_pools = [name for name, pool in spec.nodes.worker_pools.items() if pool.gpu]
    if spec.gpu.enabled and not gpu_pools:
        return [
            SpecError(
                "gpu.enabled installs the GPU stack but no worker pool has gpu: true",
                ("gpu", "enabled"),
                warning=True,
            )
        ]
    if spec.gpu.enabled:
        return []
    return [
        SpecError(
            "gpu: true needs spec.gpu.enabled: true to install the GPU stack",
            ("nodes", "workerPools", name, "gpu"),
        )
        for name in gpu_pools
    ]
