"""What an infrastructure provider asks of the bootstrap configuration, and the TLS policy.

Each provider module (``aws``, ``openstack``, ``proxmox``, ``docker``) returns
``ProviderHints``; the kubeadm and RKE2 builders turn them into their own fields, so neither
bootstrap builder knows a provider by name. Also here: the Kubernetes version spellings of
each bootstrap flavour and the FIPS switch with its TLS settings.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from lattice_pulumi.spec.cluster import LatticeCluster

__all__ = [
    "FIPS_CIPHER_SUITES",
    "Args",
    "ProviderHints",
    "StaticPod",
    "drop_empty",
    "fips_enabled",
    "kubeadm_version",
    "merged_args",
    "rke2_version",
    "tls_args",
]

Args = tuple[tuple[str, str], ...]
"""Command-line flags as ``(name, value)`` pairs, in the order they are emitted."""

# TLS 1.2 suites approved for FIPS 140 (AES-GCM with ECDHE); TLS 1.3 suites are fixed by Go.
FIPS_CIPHER_SUITES = (
    "TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256",
    "TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384",
    "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256",
    "TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384",
)


@dataclass(frozen=True)
class StaticPod:
    """A static pod manifest written on control-plane nodes (kube-vip)."""

    name: str
    manifest: str
    kubeadm_pre_commands: tuple[str, ...] = ()
    kubeadm_post_commands: tuple[str, ...] = ()


@dataclass(frozen=True)
class ProviderHints:
    """Bootstrap settings an infrastructure provider needs."""

    external_cloud_provider: bool = False
    """Nodes wait for an external cloud controller manager (kubelet ``cloud-provider``)."""
    kubeadm_node_name: str | None = None
    """kubeadm ``nodeRegistration.name`` (a cloud-init template such as the AWS hostname)."""
    kubelet_args: Args = ()
    controller_manager_args: Args = ()
    cert_sans: tuple[str, ...] = ()
    static_pods: tuple[StaticPod, ...] = ()
    rke2_registration: str = "control-plane-endpoint"
    """CAPRKE2 ``registrationMethod``: how joining nodes find the first server."""
    rke2_disabled_components: tuple[str, ...] = ()
    """RKE2 ``disableComponents.kubernetesComponents`` (``cloudController`` where the
    infrastructure provider sets node provider IDs itself)."""


def fips_enabled(cluster: LatticeCluster) -> bool:
    """Whether the cluster asks for FIPS-grade TLS (``spec.provider.kubernetes.fips``)."""
    return cluster.spec.provider.kubernetes.fips


def tls_args(cluster: LatticeCluster) -> Args:
    """``tls-min-version`` and ``tls-cipher-suites`` for API server and kubelet under FIPS."""
    if not fips_enabled(cluster):
        return ()
    return (
        ("tls-min-version", "VersionTLS12"),
        ("tls-cipher-suites", ",".join(FIPS_CIPHER_SUITES)),
    )


def kubeadm_version(cluster: LatticeCluster) -> str:
    """``v1.32.0``: the spelling Cluster API and kubeadm use."""
    return f"v{cluster.spec.provider.kubernetes.version}"


def rke2_version(cluster: LatticeCluster) -> str:
    """``v1.32.0+rke2r1``: the first RKE2 release of the Kubernetes version (CAPRKE2 form)."""
    return f"v{cluster.spec.provider.kubernetes.version}+rke2r1"


def merged_args(*groups: Args) -> list[tuple[str, str]]:
    """Flags of every group, a later group replacing an earlier value of the same flag."""
    merged: dict[str, str] = {}
    for group in groups:
        for name, value in group:
            merged[name] = value
    return list(merged.items())


def drop_empty(values: dict[str, Any]) -> dict[str, Any]:
    """``values`` without keys whose value is empty (schemas reject empty lists: minItems)."""
    return {key: value for key, value in values.items() if value not in (None, [], {}, "")}
