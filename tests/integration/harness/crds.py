"""Install third-party CRDs into a test control plane from ``../shared/crd-schemas``.

The folder holds one JSON schema per kind and version
(``<group>/<kind lowercased>_<version>.json``, kubeconform's layout). Each is wrapped as an
``apiextensions.k8s.io/v1`` CustomResourceDefinition: the kind's spelling comes from the
schema's description (or a table for the few without one), the plural from English rules
with an override table, the scope from a table of the cluster-scoped kinds. The strict
``additionalProperties: false`` that the catalog adds is removed (a structural CRD schema
may not combine it with ``properties``). Our own CRDs can be installed the same way as a
list of CRD dicts.
"""

from __future__ import annotations

import copy
import json
import os
import re
from collections.abc import Iterable, Mapping
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

from .kube import ApiError, KubeClient, Object, condition_true
from .tools import PROJECT_ROOT

# LATTICE_CRD_SCHEMAS overrides the default (a git worktree is not next to ../shared).
SCHEMAS_DIR = Path(
    os.environ.get("LATTICE_CRD_SCHEMAS") or PROJECT_ROOT.parent / "shared" / "crd-schemas"
)

# Kinds whose schema description does not name them (lowercase -> spelling).
KIND_SPELLINGS = {
    name.lower(): name
    for name in (
        "AnalysisRun",
        "AnalysisTemplate",
        "ClusterAnalysisTemplate",
        "Rollout",
        "CiliumBGPPeerConfig",
        "CiliumClusterwideEnvoyConfig",
        "CiliumEgressGatewayPolicy",
        "CiliumEnvoyConfig",
        "DestinationRule",
        "EnvoyFilter",
        "Gateway",
        "ProxyConfig",
        "ServiceEntry",
        "Sidecar",
        "VirtualService",
        "WorkloadEntry",
        "WorkloadGroup",
        "VMAgent",
        "VMCluster",
        "VMPodScrape",
        "VMRule",
        "VMServiceScrape",
        "AuthorizationPolicy",
        "PeerAuthentication",
        "RequestAuthentication",
        "BackupRepository",
        "PodVolumeBackup",
        "PodVolumeRestore",
    )
}

# Plurals that the English rules below would get wrong.
IRREGULAR_PLURALS: dict[str, str] = {
    "endpoints": "endpoints",
}

# (group, kind) of the cluster-scoped kinds among the schemas; everything else is namespaced.
CLUSTER_SCOPED: frozenset[tuple[str, str]] = frozenset(
    [
        ("argoproj.io", "ClusterAnalysisTemplate"),
        ("cert-manager.io", "ClusterIssuer"),
        ("external-secrets.io", "ClusterSecretStore"),
        ("external-secrets.io", "ClusterExternalSecret"),
        ("external-secrets.io", "ClusterGenerator"),
        ("external-secrets.io", "ClusterPushSecret"),
        ("gateway.networking.k8s.io", "GatewayClass"),
        ("keda.sh", "ClusterTriggerAuthentication"),
        ("infrastructure.cluster.x-k8s.io", "AWSClusterControllerIdentity"),
        ("infrastructure.cluster.x-k8s.io", "AWSClusterRoleIdentity"),
        ("infrastructure.cluster.x-k8s.io", "AWSClusterStaticIdentity"),
        ("infrastructure.cluster.x-k8s.io", "OpenStackClusterIdentity"),  # CAPO: scope=Cluster
    ]
    + [
        ("cilium.io", kind)
        for kind in (
            "CiliumBGPAdvertisement",
            "CiliumBGPClusterConfig",
            "CiliumBGPNodeConfig",
            "CiliumBGPNodeConfigOverride",
            "CiliumBGPPeerConfig",
            "CiliumBGPPeeringPolicy",
            "CiliumCIDRGroup",
            "CiliumClusterwideEnvoyConfig",
            "CiliumClusterwideNetworkPolicy",
            "CiliumEgressGatewayPolicy",
            "CiliumEndpointSlice",
            "CiliumExternalWorkload",
            "CiliumIdentity",
            "CiliumL2AnnouncementPolicy",
            "CiliumLoadBalancerIPPool",
            "CiliumNode",
            "CiliumPodIPPool",
        )
    ]
)

_VERSION_RE = re.compile(r"^v(\d+)(?:(alpha|beta)(\d+))?$")


def schemas_dir() -> Path | None:
    """The shared schema folder, or None in a checkout outside this workspace."""
    return SCHEMAS_DIR if SCHEMAS_DIR.is_dir() else None


def pluralize(kind: str) -> str:
    """Lowercase plural of a kind as Kubernetes CRDs spell it (Policy -> policies)."""
    word = kind.lower()
    if word in IRREGULAR_PLURALS:
        return IRREGULAR_PLURALS[word]
    if word.endswith("y") and len(word) > 1 and word[-2] not in "aeiou":
        return word[:-1] + "ies"
    if word.endswith(("s", "x", "z", "ch", "sh")):
        return word + "es"
    return word + "s"


def _version_key(version: str) -> tuple[int, int, int]:
    """Order versions as Kubernetes does: GA > beta > alpha, then by number."""
    match = _VERSION_RE.match(version)
    if not match:
        return (-1, -1, -1)
    major, stage, minor = match.groups()
    rank = {"alpha": 0, "beta": 1, None: 2}[stage]
    return (rank, int(major), int(minor or 0))


def _relax(node: Any) -> Any:
    """Drop ``additionalProperties: false`` everywhere (not allowed with ``properties``)."""
    if isinstance(node, dict):
        return {
            key: _relax(value)
            for key, value in node.items()
            if not (key == "additionalProperties" and value is False) and key != "$schema"
        }
    if isinstance(node, list):
        return [_relax(item) for item in node]
    return node


def kind_spelling(kind_lower: str, schema: Mapping[str, Any]) -> str:
    """Recover a kind's CamelCase spelling from its schema description or the table."""
    if kind_lower in KIND_SPELLINGS:
        return KIND_SPELLINGS[kind_lower]
    for word in re.findall(r"[A-Za-z0-9]+", str(schema.get("description", ""))):
        if word.lower() == kind_lower and word != kind_lower:
            return word
    raise LookupError(
        f"cannot tell how {kind_lower!r} is spelled; add it to harness.crds.KIND_SPELLINGS"
    )


def crd_from_schemas(
    group: str,
    kind: str,
    schemas: Mapping[str, Mapping[str, Any]],
    *,
    plural: str | None = None,
    namespaced: bool | None = None,
) -> Object:
    """Build a CRD serving every version in ``schemas`` (version -> OpenAPI v3 schema).

    The newest stable-most version is the storage version.
    """
    plural = plural or pluralize(kind)
    if namespaced is None:
        namespaced = (group, kind) not in CLUSTER_SCOPED
    storage = max(schemas, key=_version_key)
    versions = [
        {
            "name": version,
            "served": True,
            "storage": version == storage,
            "schema": {"openAPIV3Schema": _relax(copy.deepcopy(dict(schema)))},
            "subresources": {"status": {}} if "status" in schema.get("properties", {}) else {},
        }
        for version, schema in sorted(schemas.items(), key=lambda item: _version_key(item[0]))
    ]
    metadata: Object = {"name": f"{plural}.{group}"}
    if group.endswith((".k8s.io", ".kubernetes.io")) or group in ("k8s.io", "kubernetes.io"):
        # Protected groups need this annotation (Gateway API sets it to its approval PR).
        metadata["annotations"] = {
            "api-approved.kubernetes.io": "unapproved, test CRD built from a shared schema"
        }
    return {
        "apiVersion": "apiextensions.k8s.io/v1",
        "kind": "CustomResourceDefinition",
        "metadata": metadata,
        "spec": {
            "group": group,
            "names": {
                "kind": kind,
                "listKind": f"{kind}List",
                "plural": plural,
                "singular": kind.lower(),
            },
            "scope": "Namespaced" if namespaced else "Cluster",
            "versions": versions,
        },
    }


def shared_crd(group: str, kind: str, directory: Path | None = None) -> Object:
    """The CRD for one kind of the shared schemas, with every version found there."""
    folder = (directory or SCHEMAS_DIR) / group
    kind_lower = kind.lower()
    schemas: dict[str, Mapping[str, Any]] = {}
    for path in sorted(folder.glob(f"{kind_lower}_*.json")):
        version = path.stem[len(kind_lower) + 1 :]
        if _VERSION_RE.match(version):
            schemas[version] = json.loads(path.read_text())
    if not schemas:
        raise FileNotFoundError(f"no schema for {group} {kind} in {folder}")
    spelled = (
        kind if kind != kind_lower else kind_spelling(kind_lower, next(iter(schemas.values())))
    )
    return crd_from_schemas(group, spelled, schemas)


def shared_crds(groups: Iterable[str] | None = None, directory: Path | None = None) -> list[Object]:
    """CRDs for every kind in the shared schemas (optionally only some API groups)."""
    root = directory or SCHEMAS_DIR
    wanted = set(groups) if groups is not None else None
    crds: list[Object] = []
    for group_dir in sorted(p for p in root.iterdir() if p.is_dir()):
        if wanted is not None and group_dir.name not in wanted:
            continue
        kinds = sorted({p.stem.rsplit("_", 1)[0] for p in group_dir.glob("*.json")})
        crds.extend(shared_crd(group_dir.name, kind, root) for kind in kinds)
    return crds


def _create_or_apply(client: KubeClient, crd: Mapping[str, Any]) -> Object:
    """POST a CRD (much cheaper than server-side apply on a large schema); apply if it exists."""
    try:
        return client.create(crd)
    except ApiError as error:
        if error.status != 409:
            raise
        return client.apply(crd)


def install_crds(
    client: KubeClient, crds: Iterable[Mapping[str, Any]], timeout: float = 60.0
) -> None:
    """Create (or update by server-side apply) CRDs, then wait until each is established
    and served."""
    with ThreadPoolExecutor(max_workers=4) as pool:
        applied = list(pool.map(lambda crd: _create_or_apply(client, crd), crds))
    for crd in applied:
        name = crd["metadata"]["name"]
        client.wait_for(
            lambda name=name: condition_true(
                client.get("apiextensions.k8s.io/v1", "CustomResourceDefinition", name),
                "Established",
            ),
            timeout=timeout,
            what=f"CRD {name} to be established",
        )
        spec = crd["spec"]
        served = next(v["name"] for v in spec["versions"] if v.get("storage"))
        api_version = f"{spec['group']}/{served}"
        client.wait_for(
            lambda api_version=api_version, kind=spec["names"]["kind"]: client.resource(
                api_version, kind
            ),
            timeout=timeout,
            what=f"{api_version} {spec['names']['kind']} to be discoverable",
        )
