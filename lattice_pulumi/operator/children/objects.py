"""The objects the parent's operator writes for a child, stamped so it can find them again.

Pure. Every Cluster API object of the child (``compile_cluster``) gets the
``app.kubernetes.io/managed-by: lattice`` and ``lattice.dev/owner-uid`` labels and *no*
ownerReference: the objects are pivoted into the child, where an owner UID of the parent's
LatticeCluster would be dangling and the child's garbage collector would delete them. The
inventory for pruning is therefore the owner label, in the child's ``capi-<cluster>``
namespace, over the kinds the compiler emits.

Two Secrets carry credentials; their values never reach a log or a status:

- ``capi-<cluster>/<cluster>-bootstrap-token`` (``ClusterCompileContext``'s convention):
  the one-time token the bootstrap provider copies onto the first node, with the token id
  and expiry as annotations (not secret) so a restarted operator knows whether to mint a
  new one; it is named after the Cluster, so the pivot moves it with the Cluster;
- ``lattice-system/lattice-child-<cluster>-kubeconfig``: the operator's copy of the
  child's kubeconfig while it pivots (the Cluster API Secret moves with the Cluster
  mid-pivot; a rerun still needs to reach the child). Deleted once the child is Ready.
"""

from __future__ import annotations

import base64
import copy
from collections.abc import Iterable, Mapping
from datetime import datetime
from typing import Any

from lattice_pulumi import pki
from lattice_pulumi.compile import labels
from lattice_pulumi.compile.cluster.context import DEFAULT_TOKEN_KEY, bootstrap_token_secret
from lattice_pulumi.operator.ownership import OWNER_LABEL

__all__ = [
    "KUBECONFIG_COPY_NAMESPACE",
    "TOKEN_EXPIRES_ANNOTATION",
    "TOKEN_ID_ANNOTATION",
    "capi_namespace",
    "kubeconfig_copy",
    "kubeconfig_copy_name",
    "kubeconfig_secret_name",
    "secret_value",
    "stamp_child_objects",
    "token_expired",
    "token_secret",
]

KUBECONFIG_COPY_NAMESPACE = "lattice-system"
TOKEN_ID_ANNOTATION = "lattice.dev/bootstrap-token-id"
TOKEN_EXPIRES_ANNOTATION = "lattice.dev/bootstrap-token-expires"
CLUSTER_NAME_LABEL = "cluster.x-k8s.io/cluster-name"


def capi_namespace(cluster: str) -> str:
    return f"capi-{cluster}"


def kubeconfig_secret_name(cluster: str) -> str:
    """The Secret Cluster API's control plane provider writes (``<cluster>-kubeconfig``)."""
    return f"{cluster}-kubeconfig"


def kubeconfig_copy_name(cluster: str) -> str:
    return f"lattice-child-{cluster}-kubeconfig"


def _owner_labels(cluster: str, owner_uid: str) -> dict[str, str]:
    return {**labels.cluster_labels(cluster), OWNER_LABEL: owner_uid}


def stamp_child_objects(
    objects: Iterable[Mapping[str, Any]], cluster: str, owner_uid: str
) -> list[dict[str, Any]]:
    """Copies of ``objects`` with the owner labels; no ownerReferences (see above)."""
    stamped = []
    for obj in objects:
        out = copy.deepcopy(dict(obj))
        meta = out["metadata"]
        meta["labels"] = {**meta.get("labels", {}), **_owner_labels(cluster, owner_uid)}
        meta.pop("ownerReferences", None)
        stamped.append(out)
    return stamped


def _secret(
    namespace: str, name: str, labels_: dict[str, str], data: dict[str, bytes]
) -> dict[str, Any]:
    return {
        "apiVersion": "v1",
        "kind": "Secret",
        "metadata": {"name": name, "namespace": namespace, "labels": labels_},
        "type": "Opaque",
        "data": {k: base64.b64encode(v).decode("ascii") for k, v in data.items()},
    }


def token_secret(cluster: str, issued: pki.IssuedToken, owner_uid: str) -> dict[str, Any]:
    """The Secret the bootstrap config's ``contentFrom.secret`` names."""
    secret = _secret(
        capi_namespace(cluster),
        bootstrap_token_secret(cluster),
        {**_owner_labels(cluster, owner_uid), CLUSTER_NAME_LABEL: cluster},
        {DEFAULT_TOKEN_KEY: issued.token.encode()},
    )
    secret["metadata"]["annotations"] = {
        TOKEN_ID_ANNOTATION: issued.token_id,
        TOKEN_EXPIRES_ANNOTATION: issued.expires_at.strftime("%Y-%m-%dT%H:%M:%SZ"),
    }
    return secret


def token_expired(secret: Mapping[str, Any], now: datetime) -> bool:
    """Whether the token Secret's recorded expiry has passed (missing: treated as expired)."""
    stamp = ((secret.get("metadata") or {}).get("annotations") or {}).get(
        TOKEN_EXPIRES_ANNOTATION, ""
    )
    try:
        expires = datetime.strptime(stamp, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=now.tzinfo)
    except ValueError:
        return True
    return expires <= now


def kubeconfig_copy(cluster: str, owner_uid: str, kubeconfig: bytes) -> dict[str, Any]:
    """The operator's own copy of the child's kubeconfig, kept while it pivots."""
    return _secret(
        KUBECONFIG_COPY_NAMESPACE,
        kubeconfig_copy_name(cluster),
        _owner_labels(cluster, owner_uid),
        {"value": kubeconfig},
    )


def secret_value(secret: Mapping[str, Any], key: str) -> bytes | None:
    """The decoded ``key`` of a Secret body, or ``None``."""
    encoded = (secret.get("data") or {}).get(key)
    if not encoded:
        return None
    try:
        return base64.b64decode(encoded, validate=True)
    except ValueError:
        return None
