"""Add-on health of the agent's own cluster, as heartbeat conditions (``protocol.addons``).

The add-ons of a Lattice cluster are Cluster API Add-on Provider for Helm
``HelmChartProxy`` objects labelled ``lattice.dev/addon: <name>`` (``compile.cluster.
releases``); after the pivot they live in the cluster itself. :func:`addon_conditions`
lists them and turns each one's ``Ready`` condition into ``Addon.<name>``: ``"True"``
healthy, ``"False"`` not (reason and message as CAAPH wrote them), ``"Unknown"`` while it
has none. A cluster that does not serve the kind (or refuses the read, logged) has no
add-on conditions; node health is reported either way. Called by
``agent.health.HealthWatcher`` on every refresh.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

from lightkube import AsyncClient
from lightkube.generic_resource import create_namespaced_resource

from lattice_pulumi.kube import KubeError, api_errors
from lattice_pulumi.protocol import pb
from lattice_pulumi.protocol.addons import addon_condition_type

log = logging.getLogger(__name__)

__all__ = ["ADDON_LABEL", "HelmChartProxy", "addon_conditions", "condition_of"]

# As compile.cluster.releases.ADDON_LABEL (the agent may not import compile).
ADDON_LABEL = "lattice.dev/addon"
HelmChartProxy = create_namespaced_resource(
    "addons.cluster.x-k8s.io", "v1alpha1", "HelmChartProxy", "helmchartproxies"
)


def condition_of(name: str, body: Mapping[str, Any]) -> pb.Condition:
    """The ``Addon.<name>`` condition of one HelmChartProxy body."""
    conditions = (body.get("status") or {}).get("conditions") or []
    ready = next((c for c in conditions if c.get("type") == "Ready"), None)
    if ready is None:
        return pb.Condition(
            type=addon_condition_type(name),
            status="Unknown",
            reason="NotReported",
            message="the add-on provider has not reported on it yet",
        )
    return pb.Condition(
        type=addon_condition_type(name),
        status=str(ready.get("status") or "Unknown"),
        reason=str(ready.get("reason") or ""),
        message=str(ready.get("message") or ""),
    )


async def addon_conditions(client: AsyncClient) -> list[pb.Condition]:
    """One condition per Lattice add-on found in the cluster, sorted by name."""
    found: dict[str, pb.Condition] = {}
    try:
        with api_errors("list HelmChartProxies"):
            async for item in client.list(
                HelmChartProxy, namespace="*", labels={ADDON_LABEL: None}
            ):
                body: dict[str, Any] = item.to_dict()  # type: ignore[no-untyped-call]
                name = ((body.get("metadata") or {}).get("labels") or {}).get(ADDON_LABEL, "")
                if name:
                    found[name] = condition_of(name, body)
    except KubeError as exc:
        if exc.status != 404:  # 404: CAAPH's CRD is not installed, no add-ons to report
            log.warning("add-on health not read: %s", exc)
        return []
    return [found[name] for name in sorted(found)]
