"""Ownership labels every generated object carries, and the pod selector of a service.

Every delivery path (Pulumi, operator, ``lattice render``) finds and prunes what Lattice owns
through these labels.
"""

from __future__ import annotations

__all__ = [
    "CLUSTER_LABEL",
    "MANAGED_BY",
    "SERVICE_LABEL",
    "cluster_labels",
    "pod_selector",
    "selector",
    "service_labels",
]

MANAGED_BY = "app.kubernetes.io/managed-by"
SERVICE_LABEL = "lattice.dev/service"
CLUSTER_LABEL = "lattice.dev/cluster"


def selector(name: str) -> dict[str, str]:
    """The Deployment's selector (stable across versions: never add to it)."""
    return {"app.kubernetes.io/name": name, SERVICE_LABEL: name}


def pod_selector(name: str) -> dict[str, str]:
    """Labels policies use to select a service's pods: every pod of it, Flagger's too.

    Flagger renames ``app.kubernetes.io/name`` on the primary pods it creates, so policies
    (mesh, ingress, disruption budgets) select by the Lattice label alone.
    """
    return {SERVICE_LABEL: name}


def service_labels(name: str) -> dict[str, str]:
    """Labels of every object generated for a service, pods included."""
    return {
        "app.kubernetes.io/name": name,
        "app.kubernetes.io/instance": name,
        MANAGED_BY: "lattice",
        SERVICE_LABEL: name,
    }


def cluster_labels(name: str) -> dict[str, str]:
    """Labels of every object generated for a cluster."""
    return {MANAGED_BY: "lattice", CLUSTER_LABEL: name}
