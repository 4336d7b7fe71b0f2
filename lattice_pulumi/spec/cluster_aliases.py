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
group switches, ...) are rejected with a message saying what to write instead. The provider
blocks' rules live in ``spec.cluster_aliases_providers``.
"""

from __future__ import annotations

import re
from typing import Any

from lattice_pulumi.errors import FieldPath, SpecError
from lattice_pulumi.spec import cluster_aliases_providers
from lattice_pulumi.spec.aliases import Normalized, Rewrite

__all__ = ["normalize_cluster"]

_SPEC: FieldPath = ("spec",)
_NODES = cluster_aliases_providers.NODES
_CONFIG = cluster_aliases_providers.CONFIG
_FEATURES = ("monitoring", "backups", "externalSecrets", "gpu")
_SIZE_KEYS = ("cores", "memoryGib", "diskGib", "sockets")


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
    cluster_aliases_providers.normalize_providers(rewrite)
    return rewrite.result()


def _features(rewrite: Rewrite) -> None:
    for name in _FEATURES:
        path = (*_SPEC, name)
        value = rewrite.get(path)
        if isinstance(value, bool):
            rewrite.put(path, {}, path)
            rewrite.put((*path, "enabled"), value, path)


def _networking(rewrite: Rewrite) -> None:
    path = (*_SPEC, "networking", "default")
    if not rewrite.has(path):
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
    if rewrite.has(target) and rewrite.get(target) != pool["cidr"]:
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
    if rewrite.has(path):
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


def _node_groups(rewrite: Rewrite) -> list[FieldPath]:
    plane = (*_NODES, "controlPlane")
    return (
        [plane] if rewrite.mapping(plane) is not None else []
    ) + cluster_aliases_providers.pool_paths(rewrite)


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
        rewrite.move((*source, key), (*target, field))


def _root_volume(rewrite: Rewrite, group: FieldPath) -> None:
    path = (*group, "rootVolume")
    if rewrite.mapping(path) is not None:
        rewrite.move((*path, "sizeGb"), (*path, "size"))
