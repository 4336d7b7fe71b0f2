"""Provider blocks of LatticeClusters written for the original Lattice, rewritten into ours.

Called by ``spec.cluster_aliases.normalize_cluster`` after the node groups are canonical:
AWS and OpenStack ``cp*``/``worker*`` fields become defaults of the node groups, OpenStack
flavors and Proxmox sizes and address ranges move into our blocks, and the fields without a
meaning here are rejected with what to write instead.
"""

from __future__ import annotations

import ipaddress
import re

from lattice_pulumi.errors import FieldPath
from lattice_pulumi.spec.aliases import Rewrite

__all__ = ["CONFIG", "NODES", "normalize_providers", "pool_paths"]

NODES: FieldPath = ("spec", "nodes")
CONFIG: FieldPath = ("spec", "provider", "config")
_RANGE = re.compile(r"(\d+\.\d+\.\d+\.\d+)-(\d+(?:\.\d+){0,3})/(\d+)")
_ROOT_VOLUME = {"RootVolumeSizeGb": "size", "RootVolumeType": "type"}
_PROXMOX_SIZES = {
    "Cores": "cores",
    "MemoryMib": "memoryMiB",
    "DiskSizeGb": "diskGiB",
    "Sockets": "sockets",
}
_OPENSTACK_REJECTED = {
    "apiServerLoadBalancerFlavor": "Octavia picks the load balancer flavor; remove it "
    "(apiServerLoadBalancer: true or false turns the load balancer on or off)",
    "managedSecurityGroups": "Lattice always lets CAPO manage the security groups; remove it",
    "allowAllInClusterTraffic": "in-cluster traffic is decided by Cilium network policies; "
    "remove it",
    "cpAvailabilityZone": "Lattice leaves node placement to OpenStack; remove it",
    "workerAvailabilityZone": "Lattice leaves node placement to OpenStack; remove it",
    "sshAuthorizedKeys": "nodes take one key pair: name it in sshKeyName",
}
_PROXMOX_CLONE = (
    "templateTags",
    "snapName",
    "storage",
    "format",
    "fullClone",
    "targetNode",
    "pool",
    "description",
    "tags",
    "networkModel",
    "memoryAdjustment",
    "vmidMin",
    "vmidMax",
    "skipCloudInitStatus",
    "skipQemuGuestAgent",
)
_PROXMOX_REJECTED = {
    **dict.fromkeys(
        _PROXMOX_CLONE,
        "is a CAPMOX option Lattice does not set: VMs are full clones of templateId on "
        "sourceNode; remove it",
    ),
    "credentialsSecretName": "credentials come from the CloudProvider named by "
    "spec.providerRef; remove it",
    "credentialsSecretNamespace": "credentials come from the CloudProvider named by "
    "spec.providerRef; remove it",
    "kubeVipImage": "Lattice runs its pinned kube-vip image; remove it",
    "virtualIpNetworkInterface": "kube-vip holds the VIP on the node's default interface; "
    "remove it",
    "sshAuthorizedKeys": "Lattice does not add SSH keys to Proxmox VMs: bake them into the "
    "template; remove it",
    "ipv6Pool": "node addresses are IPv4 only (ipv4Pool); remove it",
}


def normalize_providers(rewrite: Rewrite) -> None:
    """Rewrite the aws, openstack and proxmox blocks (docker has no other spelling)."""
    _aws(rewrite)
    _openstack(rewrite)
    _proxmox(rewrite)


def pool_paths(rewrite: Rewrite) -> list[FieldPath]:
    pools = rewrite.mapping((*NODES, "workerPools")) or {}
    return [(*NODES, "workerPools", name) for name, pool in pools.items() if isinstance(pool, dict)]


def _node_defaults(rewrite: Rewrite, block: FieldPath) -> None:
    """``cp*``/``worker*`` root-volume (and AWS instance type) defaults of a provider block."""
    plane = [(*NODES, "controlPlane")]
    pools = pool_paths(rewrite)
    if block[-1] == "aws":
        rewrite.default((*block, "cpInstanceType"), plane, ("instanceType",))
        rewrite.default((*block, "workerInstanceType"), pools, ("instanceType",))
    for suffix, field in _ROOT_VOLUME.items():
        rewrite.default((*block, f"cp{suffix}"), plane, ("rootVolume", field))
        rewrite.default((*block, f"worker{suffix}"), pools, ("rootVolume", field))


def _aws(rewrite: Rewrite) -> None:
    block = (*CONFIG, "aws")
    if rewrite.mapping(block) is None:
        return
    _node_defaults(rewrite, block)
    profiles = (*block, "iamInstanceProfile")
    rewrite.move((*block, "cpIamInstanceProfile"), (*profiles, "controlPlane"))
    rewrite.move((*block, "workerIamInstanceProfile"), (*profiles, "nodes"))
    rewrite.move((*block, "amiId"), (*block, "ami", "id"))
    if rewrite.has((*block, "sshAuthorizedKeys")):
        rewrite.reject(
            (*block, "sshAuthorizedKeys"), "EC2 instances take one key pair: name it in sshKeyName"
        )


def _openstack(rewrite: Rewrite) -> None:
    block = (*CONFIG, "openstack")
    if rewrite.mapping(block) is None:
        return
    _node_defaults(rewrite, block)
    rewrite.move((*block, "cpFlavor"), (*block, "flavor", "controlPlane"))
    rewrite.move((*block, "workerFlavor"), (*block, "flavor", "worker"))
    rewrite.reject_known(block, _OPENSTACK_REJECTED)


def _proxmox(rewrite: Rewrite) -> None:
    block = (*CONFIG, "proxmox")
    if rewrite.mapping(block) is None:
        return
    pool = (*block, "ipv4Pool")
    rewrite.move((*block, "ipv4Addresses"), (*pool, "addresses"))
    rewrite.move((*block, "ipv4Prefix"), (*pool, "prefix"))
    rewrite.move((*block, "ipv4Gateway"), (*pool, "gateway"))
    if rewrite.mapping(pool) is not None:
        _pool_range(rewrite, pool)
        _pool_start_end(rewrite, pool)
    for prefix, role in (("cp", "controlPlane"), ("worker", "worker")):
        for suffix, field in _PROXMOX_SIZES.items():
            rewrite.move((*block, f"{prefix}{suffix}"), (*block, role, field))
    rewrite.reject_known(block, _PROXMOX_REJECTED)


def _pool_range(rewrite: Rewrite, pool: FieldPath) -> None:
    """``range: 10.0.0.101-120/24`` (or a full end address) as addresses and prefix."""
    source = (*pool, "range")
    if not rewrite.has(source):
        return
    text = rewrite.get(source)
    parsed = _parse_range(text) if isinstance(text, str) else None
    if parsed is None:
        rewrite.reject(
            source,
            f"{text!r} is not an address range: expected START-END/PREFIX such as "
            "10.0.0.101-120/24 or 10.0.0.101-10.0.0.120/24",
        )
        for field in ("addresses", "prefix"):  # missing because of that error: no second one
            rewrite.origins[(*pool, field)] = source
        return
    rewrite.pop(source)
    first, last, prefix = parsed
    rewrite.put((*pool, "addresses"), [f"{first}-{last}"], source)
    if not rewrite.has((*pool, "prefix")):
        rewrite.put((*pool, "prefix"), prefix, source)


def _parse_range(text: str) -> tuple[str, str, int] | None:
    match = _RANGE.fullmatch(text.strip())
    if match is None:
        return None
    first, end, prefix = match.group(1), match.group(2), int(match.group(3))
    octets = first.split(".")
    tail = end.split(".")
    last = ".".join([*octets[: 4 - len(tail)], *tail])
    try:
        ipaddress.IPv4Address(first)
        ipaddress.IPv4Address(last)
    except ValueError:
        return None
    return first, last, prefix


def _pool_start_end(rewrite: Rewrite, pool: FieldPath) -> None:
    """``{start, end, prefix, gateway}``: one address range; the prefix defaults to 24."""
    start, end = (*pool, "start"), (*pool, "end")
    if not (rewrite.has(start) and rewrite.has(end)):
        return
    first, last = rewrite.pop(start), rewrite.pop(end)
    rewrite.put((*pool, "addresses"), [f"{first}-{last}"], start)
    if not rewrite.has((*pool, "prefix")):
        rewrite.put((*pool, "prefix"), 24, start)
