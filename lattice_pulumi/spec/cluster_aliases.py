"""LatticeCluster documents written for the original Lattice, rewritten into our canonical form.

The original (a Rust operator, serde ``rename_all = "camelCase"``) spells some fields
differently and places others elsewhere. ``normalize_cluster`` rewrites the author's plain data
before validation; every moved field remembers where the author wrote it, so errors name that
place (``spec.nodes.controlPlane.instanceType.name``, not our ``instanceType``). Accepted:

- ``nodes.controlPlane: 3`` for ``{replicas: 3}``; ``monitoring``, ``backups``,
  ``externalSecrets`` and ``gpu`` as a bare boolean for ``{enabled: ...}``;
- ``instanceType: {name: X}`` for ``instanceType: X``, ``{gpu: ...}`` inside it marking the pool
  ``gpu: true``; on Proxmox ``instanceType: {cores, memoryGib, diskGib, sockets}`` as the
  block's ``controlPlane`` or ``pools.<pool>`` VM size; ``rootVolume.sizeGb`` for
  ``rootVolume.size``;
- ``networking.default.cidr`` for ``networking.lbCidr``; a ``v`` before the Kubernetes version;
- AWS ``cpInstanceType``/``workerInstanceType``, AWS and OpenStack ``cpRootVolumeSizeGb``,
  ``cpRootVolumeType``, ``workerRootVolumeSizeGb``, ``workerRootVolumeType`` as defaults of the
  node groups that set none; AWS ``cpIamInstanceProfile``/``workerIamInstanceProfile`` and
  ``amiId``; OpenStack ``cpFlavor``/``workerFlavor``;
- Proxmox ``ipv4Pool: {range: A-B/P, gateway}`` or ``{start, end, prefix, gateway}`` and the
  flat ``ipv4Addresses``/``ipv4Prefix``/``ipv4Gateway``; ``cpCores``, ``cpMemoryMib``,
  ``cpDiskSizeGb``, ``cpSockets`` and the ``worker`` ones as the ``controlPlane``/``worker``
  machine sizes.

Fields with no meaning here (``parentConfig.host``, CAPMOX clone options, OpenStack security
group switches, ...) are rejected with a message saying what to write instead.
"""

from __future__ import annotations

import ipaddress
import re
from typing import Any

from lattice_pulumi.errors import FieldPath, SpecError
from lattice_pulumi.spec.aliases import Normalized, Rewrite

__all__ = ["normalize_cluster"]

_SPEC: FieldPath = ("spec",)
_NODES: FieldPath = ("spec", "nodes")
_CONFIG: FieldPath = ("spec", "provider", "config")
_FEATURES = ("monitoring", "backups", "externalSecrets", "gpu")
_SIZE_KEYS = ("cores", "memoryGib", "diskGib", "sockets")
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


def normalize_cluster(data: Any) -> Normalized:
    """The canonical form of a LatticeCluster document (unchanged when already canonical)."""
    rewrite = Rewrite(data)
    if rewrite.mapping(_SPEC) is None:
        return rewrite.result()
    _features(rewrite)
    _networking(rewrite)
    _parent(rewrite)
    _version(rewrite)
    _control_plane_count(rewrite)
    for group in _node_groups(rewrite):
        _instance_type(rewrite, group)
        _root_volume(rewrite, group)
    _aws(rewrite)
    _openstack(rewrite)
    _proxmox(rewrite)
    return rewrite.result()


def _has(rewrite: Rewrite, path: FieldPath) -> bool:
    parent = rewrite.mapping(path[:-1])
    return parent is not None and path[-1] in parent


def _move(rewrite: Rewrite, source: FieldPath, target: FieldPath) -> None:
    """The author's ``source`` field becomes ``target``; both set differently is an error."""
    if not _has(rewrite, source):
        return
    value = rewrite.pop(source)
    if _has(rewrite, target) and rewrite.get(target) != value:
        rewrite.errors.append(
            SpecError(
                f"{value!r} differs from {'.'.join(map(str, target))} "
                f"({rewrite.get(target)!r}); set it in one place",
                source,
            )
        )
        return
    rewrite.put(target, value, source)


def _default(
    rewrite: Rewrite, source: FieldPath, groups: list[FieldPath], field: FieldPath
) -> None:
    """The author's ``source`` value applies to every group that does not set ``field``."""
    if not _has(rewrite, source):
        return
    value = rewrite.pop(source)
    for group in groups:
        target = (*group, *field)
        if not _has(rewrite, target):
            rewrite.put(target, value, source)


def _features(rewrite: Rewrite) -> None:
    for name in _FEATURES:
        path = (*_SPEC, name)
        value = rewrite.get(path)
        if isinstance(value, bool):
            rewrite.put(path, {}, path)
            rewrite.put((*path, "enabled"), value, path)


def _networking(rewrite: Rewrite) -> None:
    path = (*_SPEC, "networking", "default")
    if not _has(rewrite, path):
        return
    pool = rewrite.pop(path)
    if not isinstance(pool, dict):
        rewrite.errors.append(SpecError("expected a mapping with cidr", path))
        return
    for key in pool:
        if key != "cidr":
            rewrite.errors.append(
                SpecError("unknown field (networking.default holds only cidr)", (*path, key))
            )
    if "cidr" not in pool:
        rewrite.errors.append(SpecError("required field is missing", (*path, "cidr")))
        return
    target = (*_SPEC, "networking", "lbCidr")
    if _has(rewrite, target) and rewrite.get(target) != pool["cidr"]:
        rewrite.errors.append(
            SpecError(
                f"{pool['cidr']!r} differs from networking.lbCidr ({rewrite.get(target)!r}); "
                "set the load-balancer range in one place",
                (*path, "cidr"),
            )
        )
        return
    rewrite.put(target, pool["cidr"], (*path, "cidr"))


def _parent(rewrite: Rewrite) -> None:
    path = (*_SPEC, "parentConfig", "host")
    if _has(rewrite, path):
        rewrite.reject(
            path,
            "parentConfig.host is not used: children reach this parent through its parent "
            "service (parentConfig.service.type) and the bootstrap endpoint it is installed "
            "with; remove host",
        )


def _version(rewrite: Rewrite) -> None:
    path = (*_SPEC, "provider", "kubernetes", "version")
    value = rewrite.get(path)
    if isinstance(value, str) and re.fullmatch(r"v\d+\.\d+\.\d+", value):
        rewrite.put(path, value[1:], path)


def _control_plane_count(rewrite: Rewrite) -> None:
    path = (*_NODES, "controlPlane")
    value = rewrite.get(path)
    if isinstance(value, int) and not isinstance(value, bool):
        rewrite.put(path, {}, path)
        rewrite.put((*path, "replicas"), value, path)


def _pools(rewrite: Rewrite) -> list[FieldPath]:
    pools = rewrite.mapping((*_NODES, "workerPools")) or {}
    return [
        (*_NODES, "workerPools", name) for name, pool in pools.items() if isinstance(pool, dict)
    ]


def _node_groups(rewrite: Rewrite) -> list[FieldPath]:
    plane = (*_NODES, "controlPlane")
    return ([plane] if rewrite.mapping(plane) is not None else []) + _pools(rewrite)


def _instance_type(rewrite: Rewrite, group: FieldPath) -> None:
    path = (*group, "instanceType")
    value = rewrite.get(path)
    if not isinstance(value, dict):
        return
    sizes = [key for key in _SIZE_KEYS if key in value]
    if sizes and rewrite.mapping((*_CONFIG, "proxmox")) is None:
        rewrite.reject(
            path,
            f"instanceType {', '.join(sizes)} size a machine by resources, which only the "
            "proxmox provider does: name an instance type (instanceType: {name: ...})",
        )
        return
    if sizes:
        _proxmox_size(rewrite, group, value)
        if "name" not in value:
            rewrite.pop(path)
            return
    for key in value:
        if key in _SIZE_KEYS:
            continue
        if key not in ("name", "gpu"):
            rewrite.errors.append(
                SpecError("unknown field (instanceType holds name and gpu)", (*path, key))
            )
    if "gpu" in value and group[-2:-1] == ("workerPools",):
        rewrite.put((*group, "gpu"), True, (*path, "gpu"))
    elif "gpu" in value:
        rewrite.errors.append(
            SpecError(
                "GPUs belong to worker pools: move the pool's instanceType.gpu there",
                (*path, "gpu"),
            )
        )
    if "name" in value:
        rewrite.put(path, value["name"], (*path, "name"))
    else:
        rewrite.pop(path)
        rewrite.errors.append(SpecError("required field is missing", (*path, "name")))


def _proxmox_size(rewrite: Rewrite, group: FieldPath, size: dict[str, Any]) -> None:
    """A node group's ``instanceType: {cores, memoryGib, diskGib, sockets}`` on Proxmox: the
    block's ``controlPlane`` size, or ``pools.<name>`` for a worker pool."""
    block = (*_CONFIG, "proxmox")
    target = (
        (*block, "controlPlane") if group[-1] == "controlPlane" else (*block, "pools", group[-1])
    )
    source = (*group, "instanceType")
    fields = {
        "cores": "cores",
        "memoryGib": "memoryMiB",
        "diskGib": "diskGiB",
        "sockets": "sockets",
    }
    for key, field in fields.items():
        if key not in size:
            continue
        value = size[key]
        if key == "memoryGib":
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                rewrite.errors.append(
                    SpecError(
                        f"expected a whole number of GiB, at least 1, got {value!r}", (*source, key)
                    )
                )
                continue
            value *= 1024
        rewrite.put((*source, key), value, (*source, key))
        _move(rewrite, (*source, key), (*target, field))


def _root_volume(rewrite: Rewrite, group: FieldPath) -> None:
    path = (*group, "rootVolume")
    if rewrite.mapping(path) is not None:
        _move(rewrite, (*path, "sizeGb"), (*path, "size"))


def _node_defaults(rewrite: Rewrite, block: FieldPath) -> None:
    """``cp*``/``worker*`` root-volume (and AWS instance type) defaults of a provider block."""
    plane = [(*_NODES, "controlPlane")]
    pools = _pools(rewrite)
    if block[-1] == "aws":
        _default(rewrite, (*block, "cpInstanceType"), plane, ("instanceType",))
        _default(rewrite, (*block, "workerInstanceType"), pools, ("instanceType",))
    for suffix, field in _ROOT_VOLUME.items():
        _default(rewrite, (*block, f"cp{suffix}"), plane, ("rootVolume", field))
        _default(rewrite, (*block, f"worker{suffix}"), pools, ("rootVolume", field))


def _aws(rewrite: Rewrite) -> None:
    block = (*_CONFIG, "aws")
    if rewrite.mapping(block) is None:
        return
    _node_defaults(rewrite, block)
    profiles = (*block, "iamInstanceProfile")
    _move(rewrite, (*block, "cpIamInstanceProfile"), (*profiles, "controlPlane"))
    _move(rewrite, (*block, "workerIamInstanceProfile"), (*profiles, "nodes"))
    _move(rewrite, (*block, "amiId"), (*block, "ami", "id"))
    if _has(rewrite, (*block, "sshAuthorizedKeys")):
        rewrite.reject(
            (*block, "sshAuthorizedKeys"), "EC2 instances take one key pair: name it in sshKeyName"
        )


def _openstack(rewrite: Rewrite) -> None:
    block = (*_CONFIG, "openstack")
    if rewrite.mapping(block) is None:
        return
    _node_defaults(rewrite, block)
    _move(rewrite, (*block, "cpFlavor"), (*block, "flavor", "controlPlane"))
    _move(rewrite, (*block, "workerFlavor"), (*block, "flavor", "worker"))
    _reject_known(rewrite, block, _OPENSTACK_REJECTED)


def _reject_known(rewrite: Rewrite, block: FieldPath, table: dict[str, str]) -> None:
    for key, why in table.items():
        if _has(rewrite, (*block, key)):
            rewrite.reject((*block, key), f"{key} {why}" if why.startswith("is ") else why)


def _proxmox(rewrite: Rewrite) -> None:
    block = (*_CONFIG, "proxmox")
    if rewrite.mapping(block) is None:
        return
    pool = (*block, "ipv4Pool")
    _move(rewrite, (*block, "ipv4Addresses"), (*pool, "addresses"))
    _move(rewrite, (*block, "ipv4Prefix"), (*pool, "prefix"))
    _move(rewrite, (*block, "ipv4Gateway"), (*pool, "gateway"))
    if rewrite.mapping(pool) is not None:
        _pool_range(rewrite, pool)
        _pool_start_end(rewrite, pool)
    for prefix, role in (("cp", "controlPlane"), ("worker", "worker")):
        for suffix, field in _PROXMOX_SIZES.items():
            _move(rewrite, (*block, f"{prefix}{suffix}"), (*block, role, field))
    _reject_known(rewrite, block, _PROXMOX_REJECTED)


def _pool_range(rewrite: Rewrite, pool: FieldPath) -> None:
    """``range: 10.0.0.101-120/24`` (or a full end address) as addresses and prefix."""
    source = (*pool, "range")
    if not _has(rewrite, source):
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
    if not _has(rewrite, (*pool, "prefix")):
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
    if not (_has(rewrite, start) and _has(rewrite, end)):
        return
    first, last = rewrite.pop(start), rewrite.pop(end)
    rewrite.put((*pool, "addresses"), [f"{first}-{last}"], start)
    if not _has(rewrite, (*pool, "prefix")):
        rewrite.put((*pool, "prefix"), 24, start)
