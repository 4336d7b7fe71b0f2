"""Compile-time rules: what a Cluster API provider or a node would reject later.

``spec.cluster_checks`` already covers CIDR overlap, Proxmox pool size, instance types,
root-volume fit and the GPU switch; these rules need the CloudProvider, the compile context
or knowledge of generated names, and are not repeated there. Every finding is a
``CompileError`` with its path (relative to the document, wire names); ``check_cluster``
returns them all:

- the cluster name fits ``capi-<name>`` (a DNS label of at most 63 characters), and every
  ``<cluster>-<pool>`` fits the 63-character label value Cluster API puts on its machines;
- the CloudProvider is the one ``spec.providerRef`` names and has the provider's type;
- pool labels are ones a kubelet may set on itself (NodeRestriction) and do not contradict
  ``lattice.dev/pool``;
- AWS root volumes are at least 8 GiB, Proxmox boot volumes at least 5 GiB; RKE2 on AWS needs
  an AMI (CAPA's default images are built for kubeadm);
- OpenStack without an API load balancer runs a single control-plane node;
- RKE2 needs a two-digit Kubernetes minor (CAPRKE2's version pattern);
- at most 100 certificate names;
- a parent endpoint is an https URL with a CA bundle that holds certificates and no key.
"""

from __future__ import annotations

import re

from lattice_pulumi.compile.cluster.context import ClusterCompileContext
from lattice_pulumi.compile.cluster.objects import POOL_LABEL, capi_namespace, pool_name
from lattice_pulumi.errors import CompileError, FieldPath
from lattice_pulumi.spec.cluster import LatticeCluster, RootVolume
from lattice_pulumi.spec.providers import CloudProvider

__all__ = ["check_cluster", "raise_for_problems"]

_LABEL = re.compile(r"[a-z0-9]([-a-z0-9]*[a-z0-9])?")
_HTTPS_URL = re.compile(r"https://[A-Za-z0-9.-]+(:[0-9]{1,5})?(/[A-Za-z0-9._~/-]*)?")
_RKE2_VERSION = re.compile(r"\d\.\d{2}\.\d+")
_KUBELET_ALLOWED = {
    "kubernetes.io/arch",
    "kubernetes.io/hostname",
    "kubernetes.io/os",
    "beta.kubernetes.io/arch",
    "beta.kubernetes.io/instance-type",
    "beta.kubernetes.io/os",
    "failure-domain.beta.kubernetes.io/region",
    "failure-domain.beta.kubernetes.io/zone",
    "topology.kubernetes.io/region",
    "topology.kubernetes.io/zone",
}
_MAX_CERT_SANS = 100
_POOLS: FieldPath = ("spec", "nodes", "workerPools")
_CONFIG: FieldPath = ("spec", "provider", "config")


def check_cluster(
    cluster: LatticeCluster, cloud: CloudProvider, context: ClusterCompileContext
) -> list[CompileError]:
    """Every problem, in a stable order."""
    subject = f"cluster {cluster.name}"
    found = [
        *_names(cluster),
        *_cloud(cluster, cloud),
        *_labels(cluster),
        *_volumes(cluster),
        *_provider(cluster),
        *_context(context),
    ]
    return [CompileError(message, subject=subject, path=path) for path, message in found]


def raise_for_problems(problems: list[CompileError]) -> None:
    """Raise the one problem, or one error listing them all."""
    if len(problems) == 1:
        raise problems[0]
    if problems:
        lines = "\n".join(str(p) for p in problems)
        raise CompileError(f"{len(problems)} problems found:\n{lines}")


Finding = tuple[FieldPath, str]


def _names(cluster: LatticeCluster) -> list[Finding]:
    found: list[Finding] = []
    namespace = capi_namespace(cluster)
    if len(namespace) > 63 or not _LABEL.fullmatch(cluster.name):
        found.append(
            (
                ("metadata", "name"),
                f"'{cluster.name}' cannot name the namespace {namespace}: expected a DNS label "
                "of at most 58 characters (no dots)",
            )
        )
    for pool in cluster.spec.nodes.worker_pools:
        name = pool_name(cluster, pool)
        if len(name) > 63:
            found.append(
                (
                    (*_POOLS, pool),
                    f"'{name}' is longer than the 63 characters of a Cluster API machine label; "
                    "shorten the cluster or pool name",
                )
            )
    return found


def _cloud(cluster: LatticeCluster, cloud: CloudProvider) -> list[Finding]:
    found: list[Finding] = []
    if cloud.name != cluster.spec.provider_ref:
        found.append(
            (
                ("spec", "providerRef"),
                f"names CloudProvider '{cluster.spec.provider_ref}' but '{cloud.name}' was given",
            )
        )
    wanted = cluster.spec.provider.config.type
    if cloud.spec.type != wanted:
        found.append(
            (
                _CONFIG,
                f"the {wanted} block needs a CloudProvider of type {wanted}; "
                f"'{cloud.name}' has type {cloud.spec.type}",
            )
        )
    return found


def _kubelet_may_set(key: str) -> bool:
    prefix, _, _ = key.rpartition("/")
    restricted = prefix in ("kubernetes.io", "k8s.io") or prefix.endswith(
        (".kubernetes.io", ".k8s.io")
    )
    if not restricted or key in _KUBELET_ALLOWED:
        return True
    return prefix in ("kubelet.kubernetes.io", "node.kubernetes.io") or prefix.endswith(
        (".kubelet.kubernetes.io", ".node.kubernetes.io")
    )


def _labels(cluster: LatticeCluster) -> list[Finding]:
    found: list[Finding] = []
    for name, pool in cluster.spec.nodes.worker_pools.items():
        for key, value in pool.labels.items():
            path = (*_POOLS, name, "labels", key)
            if not _kubelet_may_set(key):
                found.append(
                    (
                        path,
                        f"a kubelet may not set '{key}' on its node (NodeRestriction); "
                        "use a label outside kubernetes.io and k8s.io",
                    )
                )
            if key == POOL_LABEL and value != name:
                found.append((path, f"'{value}' contradicts the pool name '{name}'"))
    return found


def _volumes(cluster: LatticeCluster) -> list[Finding]:
    provider = cluster.spec.provider.config.type
    smallest = {"aws": 8, "proxmox": 5}.get(provider)
    if smallest is None:
        return []
    groups: list[tuple[FieldPath, RootVolume | None]] = [
        (("spec", "nodes", "controlPlane"), cluster.spec.nodes.control_plane.root_volume)
    ]
    groups += [((*_POOLS, n), p.root_volume) for n, p in cluster.spec.nodes.worker_pools.items()]
    return [
        (
            (*path, "rootVolume", "size"),
            f"{volume.size} GiB is below the {provider} provider's minimum of {smallest} GiB",
        )
        for path, volume in groups
        if volume is not None and volume.size < smallest
    ]


def _provider(cluster: LatticeCluster) -> list[Finding]:
    found: list[Finding] = []
    kubernetes = cluster.spec.provider.kubernetes
    config = cluster.spec.provider.config
    rke2 = kubernetes.bootstrap == "rke2"
    if rke2 and config.aws is not None and config.aws.ami is None:
        found.append(
            (
                (*_CONFIG, "aws", "ami"),
                "RKE2 on AWS needs an AMI built for RKE2: CAPA's default images are for kubeadm",
            )
        )
    os_config = config.openstack
    if os_config and not os_config.api_server_load_balancer:
        replicas = cluster.spec.nodes.control_plane.replicas
        if replicas > 1:
            found.append(
                (
                    (*_CONFIG, "openstack", "apiServerLoadBalancer"),
                    f"{replicas} control-plane nodes need the API server load balancer; "
                    "without it CAPO serves the API from one node's floating IP",
                )
            )
    if rke2 and not _RKE2_VERSION.fullmatch(kubernetes.version):
        found.append(
            (
                ("spec", "provider", "kubernetes", "version"),
                f"RKE2 releases exist for versions 1.10 and later, not {kubernetes.version}",
            )
        )
    if len(kubernetes.cert_sans) > _MAX_CERT_SANS:
        found.append(
            (
                ("spec", "provider", "kubernetes", "certSANs"),
                f"{len(kubernetes.cert_sans)} names exceed the {_MAX_CERT_SANS} a control "
                "plane accepts",
            )
        )
    return found


def _context(context: ClusterCompileContext) -> list[Finding]:
    endpoint = context.bootstrap_endpoint
    if endpoint is None:
        return []
    found: list[Finding] = []
    if not _HTTPS_URL.fullmatch(endpoint):
        found.append(
            (
                ("context", "bootstrapEndpoint"),
                f"'{endpoint}' is not an https URL such as https://cell.example.com:8443",
            )
        )
    pem = context.parent_ca_pem or ""
    if "-----BEGIN CERTIFICATE-----" not in pem:
        found.append(
            (("context", "parentCaPem"), "expected the parent's CA certificates in PEM form")
        )
    if "PRIVATE KEY" in pem:
        found.append(
            (("context", "parentCaPem"), "holds a private key: pass only the CA certificates")
        )
    return found
