"""LatticeCluster ``spec.provider.config`` blocks: AWS, OpenStack, Proxmox and Docker.

Each block holds what the matching Cluster API provider (CAPA, CAPO, CAPMOX, CAPD) needs and
nothing about nodes or networking that the rest of the cluster spec already says. The cluster
compiler (``compile.cluster``) reads them; ``spec.cluster`` checks them against the node counts.
"""

from __future__ import annotations

import ipaddress
import re
from typing import Annotated, Literal

from pydantic import AfterValidator, Field, model_validator

from lattice_pulumi.spec.base import (
    Cidr,
    DnsLabel,
    DnsSubdomain,
    IpAddress,
    SpecModel,
    require_exactly_one,
)

__all__ = [
    "EBS_VOLUME_TYPES",
    "AwsAmi",
    "AwsConfig",
    "AwsIamInstanceProfiles",
    "AwsRegion",
    "AwsRootVolume",
    "DockerConfig",
    "Ipv4Pool",
    "OpenStackConfig",
    "OpenStackFlavors",
    "ProviderConfig",
    "ProviderType",
    "ProxmoxConfig",
    "ProxmoxMachine",
]

ProviderType = Literal["aws", "openstack", "proxmox", "docker"]
EBS_VOLUME_TYPES = ("gp2", "gp3", "io1", "io2", "st1", "sc1", "standard")


def _matching(pattern: str, what: str, example: str) -> AfterValidator:
    compiled = re.compile(pattern)

    def check(value: str) -> str:
        if not compiled.fullmatch(value):
            raise ValueError(f"'{value}' is not {what}: expected a value such as {example}")
        return value

    return AfterValidator(check)


AwsRegion = Annotated[
    str, _matching(r"[a-z]{2}(-gov|-iso[a-z]?)?-[a-z]+-\d", "an AWS region", "us-west-2")
]
AmiId = Annotated[str, _matching(r"ami-[0-9a-f]{8,17}", "an AMI id", "ami-0abcdef1234567890")]
VpcId = Annotated[str, _matching(r"vpc-[0-9a-f]{8,17}", "a VPC id", "vpc-0abc1234def567890")]
SubnetId = Annotated[
    str, _matching(r"subnet-[0-9a-f]{8,17}", "a subnet id", "subnet-0abc1234def567890")
]
OpenStackId = Annotated[
    str,
    _matching(
        r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}",
        "an OpenStack id",
        "0d8e2a3c-5f4b-4c1e-9a7d-2b6f8e1c3a90",
    ),
]
BridgeName = Annotated[
    str, _matching(r"[A-Za-z][A-Za-z0-9_.-]{0,14}", "a Linux bridge name", "vmbr0")
]
ProxmoxNodeName = Annotated[
    str, _matching(r"[A-Za-z0-9]([-A-Za-z0-9]{0,61}[A-Za-z0-9])?", "a Proxmox node name", "pve1")
]


# ---------------------------------------------------------------------------------------- AWS


class AwsAmi(SpecModel):
    """The machine image: a fixed AMI id, or CAPA's lookup by organisation, OS and format."""

    id: AmiId | None = None
    lookup_org: str | None = None
    lookup_base_os: str | None = Field(default=None, alias="lookupBaseOS")
    lookup_format: str | None = None

    @model_validator(mode="after")
    def _id_or_lookup(self) -> AwsAmi:
        lookup = self.lookup_org or self.lookup_base_os or self.lookup_format
        if self.id and lookup:
            raise ValueError(
                "set either id or the lookup fields (lookupOrg, lookupBaseOS, "
                "lookupFormat), not both"
            )
        if not self.id and not lookup:
            raise ValueError("expected id or at least one of lookupOrg, lookupBaseOS, lookupFormat")
        return self


class AwsIamInstanceProfiles(SpecModel):
    """Instance profiles of control-plane and worker instances (clusterawsadm's defaults)."""

    control_plane: str = "control-plane.cluster-api-provider-aws.sigs.k8s.io"
    nodes: str = "nodes.cluster-api-provider-aws.sigs.k8s.io"


class AwsRootVolume(SpecModel):
    """Default EBS root volume of every instance; size in GiB."""

    size: int = Field(default=80, ge=8, le=16384)
    type: Literal["gp2", "gp3", "io1", "io2", "st1", "sc1", "standard"] = "gp3"


class AwsConfig(SpecModel):
    """Cluster API Provider AWS: region, images, network (managed or brought), load balancer."""

    region: AwsRegion
    ssh_key_name: str | None = None
    ami: AwsAmi | None = None
    vpc_id: VpcId | None = None
    subnet_ids: list[SubnetId] = Field(default_factory=list)
    load_balancer_type: Literal["nlb", "classic"] = "nlb"
    internal_load_balancer: bool = False
    iam_instance_profile: AwsIamInstanceProfiles = Field(default_factory=AwsIamInstanceProfiles)
    root_volume: AwsRootVolume = Field(default_factory=AwsRootVolume)
    additional_tags: dict[str, str] = Field(default_factory=dict)

    @model_validator(mode="after")
    def _network_and_tags(self) -> AwsConfig:
        if bool(self.vpc_id) != bool(self.subnet_ids):
            raise ValueError(
                "vpcId and subnetIds go together: set both to bring your own "
                "network, or neither to let Cluster API create one"
            )
        if len(set(self.subnet_ids)) != len(self.subnet_ids):
            raise ValueError("subnetIds lists a subnet more than once")
        for key, value in self.additional_tags.items():
            if not key or len(key) > 128 or key.lower().startswith("aws:"):
                raise ValueError(
                    f"additionalTags key '{key}' is invalid: expected 1-128 "
                    "characters not starting with 'aws:'"
                )
            if len(value) > 256:
                raise ValueError(f"additionalTags '{key}' value is longer than 256 characters")
        return self


# ---------------------------------------------------------------------------------- OpenStack


class OpenStackFlavors(SpecModel):
    """Default flavors; ``nodes.*.instanceType`` overrides them per node group."""

    control_plane: str = Field(min_length=1)
    worker: str = Field(min_length=1)


class OpenStackConfig(SpecModel):
    """Cluster API Provider OpenStack.

    With ``managedSubnets`` (the default) CAPO creates network, subnet (``nodeCidr``,
    ``dnsNameservers``) and router; otherwise ``networkId``/``subnetId`` name existing ones and
    ``nodeCidr`` states the existing subnet's range.
    """

    cloud_name: str = Field(default="openstack", min_length=1)
    identity_ref: DnsSubdomain | None = None
    """Secret with ``clouds.yaml``; defaults to the referenced CloudProvider's credentials."""
    external_network_id: OpenStackId
    image_name: str = Field(min_length=1)
    flavor: OpenStackFlavors
    ssh_key_name: str | None = None
    node_cidr: Cidr = "10.6.0.0/24"
    dns_nameservers: list[IpAddress] = Field(default_factory=list)
    api_server_load_balancer: bool = True
    managed_subnets: bool = True
    network_id: OpenStackId | None = None
    subnet_id: OpenStackId | None = None

    @model_validator(mode="after")
    def _managed_or_existing(self) -> OpenStackConfig:
        if self.managed_subnets:
            if self.network_id or self.subnet_id:
                raise ValueError(
                    "networkId and subnetId name an existing network: set "
                    "managedSubnets: false to use them"
                )
        else:
            if not (self.network_id and self.subnet_id):
                raise ValueError(
                    "managedSubnets: false needs networkId and subnetId of the existing network"
                )
            if self.dns_nameservers:
                raise ValueError(
                    "dnsNameservers configures a managed subnet: remove it or set "
                    "managedSubnets: true"
                )
        return self


# ------------------------------------------------------------------------------------ Proxmox


def _check_pool_entry(value: str) -> str:
    try:
        _entry_bounds(value)
    except ValueError:
        raise ValueError(
            f"'{value}' is not an IPv4 range or CIDR: expected a.b.c.d-a.b.c.e "
            "(first <= last), a.b.c.0/24 or a single address"
        ) from None
    return value


def _entry_bounds(entry: str) -> tuple[int, int]:
    """First and last usable address of a pool entry (network/broadcast left out of CIDRs)."""
    if "/" in entry:
        net = ipaddress.IPv4Network(entry, strict=True)
        first, last = int(net.network_address), int(net.broadcast_address)
        return (first + 1, last - 1) if net.prefixlen <= 30 else (first, last)
    start, sep, end = entry.partition("-")
    if not sep:
        address = int(ipaddress.IPv4Address(start.strip()))
        return address, address
    first = int(ipaddress.IPv4Address(start.strip()))
    last = int(ipaddress.IPv4Address(end.strip()))
    if first > last:
        raise ValueError(entry)
    return first, last


PoolEntry = Annotated[str, AfterValidator(_check_pool_entry)]


class Ipv4Pool(SpecModel):
    """Node addresses handed out by the in-cluster IPAM: ranges or CIDRs on one subnet."""

    addresses: list[PoolEntry] = Field(min_length=1)
    prefix: int = Field(ge=1, le=32)
    gateway: IpAddress

    @model_validator(mode="after")
    def _on_gateway_subnet(self) -> Ipv4Pool:
        gateway = ipaddress.ip_address(self.gateway)
        if gateway.version != 4:
            raise ValueError(f"gateway {self.gateway} is not an IPv4 address")
        subnet = ipaddress.IPv4Network(f"{self.gateway}/{self.prefix}", strict=False)
        low, high = int(subnet.network_address), int(subnet.broadcast_address)
        for entry in self.addresses:
            first, last = _entry_bounds(entry)
            if first < low or last > high:
                raise ValueError(
                    f"addresses entry '{entry}' is outside the gateway's subnet {subnet}"
                )
        return self

    def intervals(self) -> list[tuple[int, int]]:
        """Merged, sorted ``(first, last)`` integer intervals of every pool address."""
        merged: list[tuple[int, int]] = []
        for first, last in sorted(_entry_bounds(e) for e in self.addresses):
            if merged and first <= merged[-1][1] + 1:
                merged[-1] = (merged[-1][0], max(last, merged[-1][1]))
            else:
                merged.append((first, last))
        return merged

    def contains(self, address: str) -> bool:
        value = int(ipaddress.ip_address(address))
        return any(first <= value <= last for first, last in self.intervals())

    def usable_count(self) -> int:
        """Addresses nodes can get: every pool address except the gateway."""
        total = sum(last - first + 1 for first, last in self.intervals())
        return total - (1 if self.contains(self.gateway) else 0)


class ProxmoxMachine(SpecModel):
    """Size of the control-plane, worker or one pool's VMs; unset fields take the values of
    the wider level (pool, then ``worker``, then the block; one socket)."""

    cores: int | None = Field(default=None, ge=1, le=512)
    memory_mib: int | None = Field(default=None, ge=1024, alias="memoryMiB")
    disk_gib: int | None = Field(default=None, ge=10, alias="diskGiB")
    sockets: int | None = Field(default=None, ge=1, le=16)


class ProxmoxConfig(SpecModel):
    """Cluster API Provider Proxmox (CAPMOX): template clone, placement, static addressing."""

    source_node: ProxmoxNodeName
    template_id: int = Field(ge=100, le=999_999_999)
    allowed_nodes: list[ProxmoxNodeName] = Field(default_factory=list)
    """Nodes VMs may be placed on; empty means only ``sourceNode``."""
    control_plane_endpoint: IpAddress
    ipv4_pool: Ipv4Pool
    dns_servers: list[IpAddress] = Field(min_length=1)
    bridge: BridgeName = "vmbr0"
    vlan: int | None = Field(default=None, ge=1, le=4094)
    cores: int = Field(default=2, ge=1, le=512)
    memory_mib: int = Field(default=4096, ge=1024, alias="memoryMiB")
    disk_gib: int = Field(default=40, ge=10, alias="diskGiB")
    control_plane: ProxmoxMachine | None = None
    """Control-plane VM size, overriding cores, memoryMiB and diskGiB."""
    worker: ProxmoxMachine | None = None
    """Worker VM size, overriding cores, memoryMiB and diskGiB (a pool's rootVolume.size
    still sets its disk)."""
    pools: dict[DnsLabel, ProxmoxMachine] = Field(default_factory=dict)
    """VM size of single worker pools (by pool name), overriding ``worker``."""

    def machine(self, role: str, pool: str | None = None) -> ProxmoxMachine:
        """The effective size of the control-plane VMs, or of a worker pool's."""
        if role == "control-plane":
            levels = [self.control_plane]
        else:
            levels = [self.pools.get(pool or ""), self.worker]
        chosen = [level for level in levels if level is not None]

        def pick(name: str, default: int) -> int:
            values = [getattr(level, name) for level in chosen]
            return next((v for v in values if v is not None), default)

        return ProxmoxMachine.model_validate(
            {
                "cores": pick("cores", self.cores),
                "memoryMiB": pick("memory_mib", self.memory_mib),
                "diskGiB": pick("disk_gib", self.disk_gib),
                "sockets": pick("sockets", 1),
            }
        )

    @model_validator(mode="after")
    def _endpoint_outside_pool(self) -> ProxmoxConfig:
        if ipaddress.ip_address(self.control_plane_endpoint).version != 4:
            raise ValueError(
                f"controlPlaneEndpoint {self.control_plane_endpoint} is not an IPv4 address"
            )
        if self.ipv4_pool.contains(self.control_plane_endpoint):
            raise ValueError(
                f"controlPlaneEndpoint {self.control_plane_endpoint} is inside "
                "ipv4Pool.addresses: the VIP must not be handed to a node"
            )
        if self.control_plane_endpoint == self.ipv4_pool.gateway:
            raise ValueError("controlPlaneEndpoint must not be the ipv4Pool gateway")
        return self


# ------------------------------------------------------------------------------------- Docker


class DockerConfig(SpecModel):
    """Cluster API Provider Docker (development); ``lbCidr`` is taken from the kind network."""

    lb_cidr: Cidr | None = None


# ------------------------------------------------------------------------------------ choice


class ProviderConfig(SpecModel):
    """Exactly one infrastructure block."""

    aws: AwsConfig | None = None
    openstack: OpenStackConfig | None = None
    proxmox: ProxmoxConfig | None = None
    docker: DockerConfig | None = None

    @model_validator(mode="after")
    def _exactly_one(self) -> ProviderConfig:
        require_exactly_one(self, "aws", "openstack", "proxmox", "docker")
        return self

    @property
    def type(self) -> ProviderType:
        """Which block is set."""
        if self.aws is not None:
            return "aws"
        if self.openstack is not None:
            return "openstack"
        if self.proxmox is not None:
            return "proxmox"
        return "docker"
