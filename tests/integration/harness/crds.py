"""Install third-party CRDs into a test control plane from their JSON schemas.

The schemas are searched in ``scripts/fetch-crds``' cache (``$LATTICE_TOOLS_DIR/crd-schemas``:
the CRDs of the Go modules at the versions pinned in ``scripts/tools.versions``), then in
``../shared/crd-schemas`` (the fallback, for kinds whose module is not served). A folder
holds one JSON schema per kind and version
(``<group>/<kind lowercased>_<version>.json``, kubeconform's layout). Each is wrapped as an
``apiextensions.k8s.io/v1`` CustomResourceDefinition: the kind's spelling, plural and scope
come from the cache's ``index.json`` (taken from the real CRDs); for the shared folder the
spelling comes from the schema's description (or a table for the few without one), the
plural from English rules with an override table, the scope from a table of the
cluster-scoped kinds. The strict
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
from .tools import PROJECT_ROOT, tools_root

# LATTICE_CRD_SCHEMAS overrides the fallback's place (a git worktree is not next to ../shared).
SHARED_SCHEMAS_DIR = Path(
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

# Kinds we emit that the shared catalogue lacks: schemas written here from the kinds'
# documentation (version -> OpenAPI schema). The ESO Password generator lists length,
# digits, symbols, symbolCharacters, noUpper and allowRepeat (length, noUpper and
# allowRepeat required).
WRITTEN_SCHEMAS: dict[tuple[str, str], dict[str, Mapping[str, Any]]] = {
    ("generators.external-secrets.io", "Password"): {
        "v1alpha1": {
            "type": "object",
            "properties": {
                "apiVersion": {"type": "string"},
                "kind": {"type": "string"},
                "metadata": {"type": "object"},
                "spec": {
                    "type": "object",
                    "required": ["allowRepeat", "length", "noUpper"],
                    "properties": {
                        "length": {"type": "integer"},
                        "digits": {"type": "integer"},
                        "symbols": {"type": "integer"},
                        "symbolCharacters": {"type": "string"},
                        "noUpper": {"type": "boolean"},
                        "allowRepeat": {"type": "boolean"},
                    },
                },
            },
        }
    }
}

_VERSION_RE = re.compile(r"^v(\d+)(?:(alpha|beta)(\d+))?$")


def fetched_schemas_dir() -> Path:
    """Where ``scripts/fetch-crds`` keeps the schemas of the pinned CRDs."""
    return tools_root() / "crd-schemas"


def schema_dirs() -> list[Path]:
    """The schema folders, in search order: the fetched cache, then ../shared."""
    fetched = fetched_schemas_dir()
    dirs = [fetched] if (fetched / ".stamp").is_file() else []
    return dirs + ([SHARED_SCHEMAS_DIR] if SHARED_SCHEMAS_DIR.is_dir() else [])


def schemas_dir() -> Path | None:
    """The first schema folder, or None when there is none (run scripts/fetch-crds)."""
    dirs = schema_dirs()
    return dirs[0] if dirs else None


def _search(directory: Path | None) -> list[Path]:
    """``directory`` first (when given), then every schema folder, without repeats."""
    dirs = ([directory] if directory is not None else []) + schema_dirs()
    return list(dict.fromkeys(dirs))


def _index(directory: Path) -> dict[tuple[str, str], Mapping[str, str]]:
    """(group, kind lowercased) -> names and scope, from a fetched folder's index.json."""
    path = directory / "index.json"
    if not path.is_file():
        return {}
    entries = json.loads(path.read_text())
    return {(e["group"], e["kind"].lower()): e for e in entries}


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


def _schemas_in(folder: Path, kind_lower: str) -> dict[str, Mapping[str, Any]]:
    schemas: dict[str, Mapping[str, Any]] = {}
    for path in sorted(folder.glob(f"{kind_lower}_*.json")):
        version = path.stem[len(kind_lower) + 1 :]
        if _VERSION_RE.match(version):
            schemas[version] = json.loads(path.read_text())
    return schemas


def shared_crd(group: str, kind: str, directory: Path | None = None) -> Object:
    """The CRD for one kind, with every version of the first folder that has the kind
    (``directory`` first when given, then the fetched cache, then ../shared)."""
    kind_lower = kind.lower()
    searched = _search(directory)
    for root in searched:
        schemas = _schemas_in(root / group, kind_lower)
        if not schemas:
            continue
        names = _index(root).get((group, kind_lower))
        if names is not None:
            return crd_from_schemas(
                group,
                names["kind"],
                schemas,
                plural=names["plural"],
                namespaced=names["scope"] == "Namespaced",
            )
        spelled = (
            kind if kind != kind_lower else kind_spelling(kind_lower, next(iter(schemas.values())))
        )
        return crd_from_schemas(group, spelled, schemas)
    if (group, kind) in WRITTEN_SCHEMAS:
        return crd_from_schemas(group, kind, WRITTEN_SCHEMAS[(group, kind)])
    raise FileNotFoundError(
        f"no schema for {group} {kind} in {', '.join(map(str, searched)) or 'no folder'}"
    )


def shared_crds(groups: Iterable[str] | None = None, directory: Path | None = None) -> list[Object]:
    """CRDs for every kind in the schema folders (optionally only some API groups); a kind
    in several folders comes from the first."""
    wanted = set(groups) if groups is not None else None
    kinds: set[tuple[str, str]] = set()
    for root in _search(directory):
        for group_dir in (p for p in root.iterdir() if p.is_dir() and "." in p.name):
            if wanted is None or group_dir.name in wanted:
                found = group_dir.glob("*.json")
                kinds |= {(group_dir.name, p.stem.rsplit("_", 1)[0]) for p in found}
    return [shared_crd(group, kind, directory) for group, kind in sorted(kinds)]


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
