"""Pure helpers from a cell's fleet view to rows, JSON-ready data and rich renderables.

``clusters_of`` turns the ``FleetView`` message of ``FleetService.GetFleet`` into
:class:`FleetCluster` rows (the serving cell first, then by depth and name); the
``format_*`` functions build what ``lattice get clusters|cluster|hierarchy|health`` print,
``*_data`` what ``-o json|yaml`` print. No I/O and no clock: callers pass ``now_ms``. Used by
``lattice_pulumi.cli.fleet_get`` and unit-tested on their own.
"""

from __future__ import annotations

import io
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from rich.console import Console, Group, RenderableType
from rich.markup import escape
from rich.table import Table
from rich.text import Text
from rich.tree import Tree

from lattice_pulumi.cli import fleet_addons
from lattice_pulumi.protocol import pb

__all__ = [
    "PHASES",
    "FleetCluster",
    "NodePool",
    "cluster_data",
    "clusters_of",
    "format_age",
    "format_cluster_detail",
    "format_clusters_table",
    "format_health_table",
    "format_hierarchy",
    "format_timestamp",
    "health_data",
    "hierarchy_data",
    "render_text",
]

PHASES: dict[int, str] = {
    pb.CLUSTER_STATE_UNSPECIFIED: "Unknown",
    pb.CLUSTER_STATE_PROVISIONING: "Provisioning",
    pb.CLUSTER_STATE_PIVOTING: "Pivoting",
    pb.CLUSTER_STATE_READY: "Ready",
    pb.CLUSTER_STATE_DEGRADED: "Degraded",
    pb.CLUSTER_STATE_FAILED: "Failed",
    pb.CLUSTER_STATE_DELETING: "Deleting",
}
_PHASE_STYLE = {
    "Ready": "green",
    "Degraded": "yellow",
    "Failed": "red",
    "Unknown": "dim",
    "Healthy": "green",
    "Unhealthy": "red",
}


@dataclass(frozen=True)
class NodePool:
    """One worker pool: ``ready`` of ``total`` nodes."""

    name: str
    ready: int
    total: int
    instance_type: str = ""


@dataclass(frozen=True)
class FleetCluster:
    """One row of the fleet view; ``parent`` is empty for the serving cell."""

    name: str
    parent: str
    depth: int
    phase: str
    provider: str
    kubernetes_version: str
    role: str
    control_plane: tuple[int, int]
    workers: tuple[int, int]
    connected: bool
    stale: bool  # reported through an ancestor that is itself disconnected
    last_heartbeat_ms: int
    first_seen_ms: int
    agent_version: str = ""
    pools: tuple[NodePool, ...] = ()
    conditions: tuple[pb.Condition, ...] = ()

    @property
    def agent(self) -> str:
        if not self.parent:
            return "serving"
        if self.stale:
            return "unknown"
        return "connected" if self.connected else "disconnected"


def _row(entry: pb.SubtreeCluster, depth: int, stale: bool) -> FleetCluster:
    health = entry.health
    return FleetCluster(
        name=entry.name,
        parent=entry.parent,
        depth=depth,
        phase=PHASES.get(entry.state, "Unknown"),
        provider=entry.provider,
        kubernetes_version=entry.kubernetes_version,
        role=entry.role,
        control_plane=(health.control_plane.ready, health.control_plane.total),
        workers=(health.workers.ready, health.workers.total),
        connected=entry.connected,
        stale=stale,
        last_heartbeat_ms=entry.last_heartbeat_unix_ms,
        first_seen_ms=entry.first_seen_unix_ms,
        agent_version=entry.agent_version,
        pools=tuple(
            NodePool(p.name, p.nodes.ready, p.nodes.total, p.instance_type) for p in health.pools
        ),
        conditions=tuple(health.conditions),
    )


def clusters_of(view: pb.FleetView) -> list[FleetCluster]:
    """The serving cell, then every cluster below it, sorted by depth then name.

    A cluster whose parent is missing from the view hangs under the cell. A cluster is
    ``stale`` when some ancestor below the cell is disconnected: what it shows was reported
    before that link broke.
    """
    entries = {e.name: e for e in view.clusters if e.name != view.cell.name}
    depth: dict[str, int] = {view.cell.name: 0}
    stale: dict[str, bool] = {view.cell.name: False}

    def place(name: str, seen: frozenset[str] = frozenset()) -> None:
        if name in depth:
            return
        parent = entries[name].parent
        if (parent not in entries and parent != view.cell.name) or parent in seen:
            parent = view.cell.name  # orphan or cycle: hang it under the cell
        place(parent, seen | {name})
        depth[name] = depth[parent] + 1
        above = entries.get(parent)
        stale[name] = stale[parent] or (above is not None and not above.connected)

    for name in entries:
        place(name)
    rows = [_row(e, depth[n], stale[n]) for n, e in entries.items()]
    rows.sort(key=lambda r: (r.depth, r.name))
    return [_row(view.cell, 0, False), *rows]


def format_age(seconds: float) -> str:
    """kubectl-style age: ``45s``, ``12m``, ``5h``, ``3d`` (``-`` when unknown)."""
    if seconds < 0:
        return "0s"
    s = int(seconds)
    if s < 120:
        return f"{s}s"
    if s < 2 * 3600:
        return f"{s // 60}m"
    if s < 48 * 3600:
        return f"{s // 3600}h"
    return f"{s // 86400}d"


def format_timestamp(unix_ms: int) -> str:
    """``2025-01-31T12:00:05Z`` (``never`` for 0)."""
    if unix_ms <= 0:
        return "never"
    return datetime.fromtimestamp(unix_ms / 1000, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _age(unix_ms: int, now_ms: int) -> str:
    return format_age((now_ms - unix_ms) / 1000) if unix_ms > 0 else "-"


def _counts(counts: tuple[int, int]) -> str:
    return f"{counts[0]}/{counts[1]}"


def _phase(phase: str) -> str:
    style = _PHASE_STYLE.get(phase)
    return f"[{style}]{phase}[/{style}]" if style else phase


def _agent(cluster: FleetCluster) -> str:
    styles = {"connected": "green", "disconnected": "red", "unknown": "yellow"}
    style = styles.get(cluster.agent)
    return f"[{style}]{cluster.agent}[/{style}]" if style else cluster.agent


def _table(*columns: str) -> Table:
    table = Table(box=None, pad_edge=False, show_edge=False, header_style="bold")
    for column in columns:
        table.add_column(column, no_wrap=True)
    return table


def format_clusters_table(clusters: list[FleetCluster], now_ms: int) -> Table:
    """``NAME PHASE PROVIDER K8S CP WORKERS ROLE AGE``, one row per cluster."""
    table = _table("NAME", "PHASE", "PROVIDER", "K8S", "CP", "WORKERS", "ROLE", "AGE")
    for c in clusters:
        table.add_row(
            escape(c.name),
            _phase(c.phase),
            escape(c.provider or "-"),
            escape(c.kubernetes_version or "-"),
            _counts(c.control_plane),
            _counts(c.workers),
            escape(c.role or "-"),
            _age(c.first_seen_ms, now_ms),
        )
    return table


def format_cluster_detail(cluster: FleetCluster, now_ms: int) -> Group:
    """Key/value summary of one cluster, then its pools and conditions."""
    c = cluster
    heartbeat = format_timestamp(c.last_heartbeat_ms)
    if c.last_heartbeat_ms > 0:
        heartbeat += f" ({_age(c.last_heartbeat_ms, now_ms)} ago)"
    fields = [
        ("Name", escape(c.name)),
        ("Parent", escape(c.parent or "-")),
        ("Role", escape(c.role or "-")),
        ("Phase", _phase(c.phase)),
        ("Provider", escape(c.provider or "-")),
        ("Kubernetes", escape(c.kubernetes_version or "-")),
        ("Control plane", f"{_counts(c.control_plane)} ready"),
        ("Workers", f"{_counts(c.workers)} ready"),
        ("Agent", f"{_agent(c)} {escape(c.agent_version)}".rstrip()),
        ("Last heartbeat", heartbeat),
        ("Age", _age(c.first_seen_ms, now_ms)),
    ]
    summary = Table.grid(padding=(0, 2))
    summary.add_column(style="bold")
    summary.add_column()
    for key, value in fields:
        summary.add_row(f"{key}:", value)
    parts: list[RenderableType] = [summary, Text("")]
    if c.pools:
        pools = _table("POOL", "READY", "INSTANCE TYPE")
        for pool in c.pools:
            pools.add_row(
                escape(pool.name), _counts((pool.ready, pool.total)), escape(pool.instance_type)
            )
        parts += [pools, Text("")]
    else:
        parts.append(Text("Pools: none reported"))
    addons, own = fleet_addons.split_addons(c.conditions)
    if addons:
        table = _table("ADD-ON", "HEALTH", "REASON", "MESSAGE")
        for row in addons:
            table.add_row(
                escape(row.name), _phase(row.health), escape(row.reason), escape(row.message)
            )
        parts += [table, Text("")]
    if own:
        conditions = _table("CONDITION", "STATUS", "REASON", "SINCE", "MESSAGE")
        for cond in own:
            since = cond.last_transition_unix * 1000
            conditions.add_row(
                escape(cond.type),
                escape(cond.status),
                escape(cond.reason),
                _age(since, now_ms),
                escape(cond.message),
            )
        parts.append(conditions)
    else:
        parts.append(Text("Conditions: none reported"))
    return Group(*parts)


def _tree_label(c: FleetCluster) -> str:
    return f"[bold]{escape(c.name)}[/bold]  {_phase(c.phase)}  {_agent(c)}"


def format_hierarchy(clusters: list[FleetCluster]) -> Tree:
    """The fleet as a tree under the serving cell (rows as from :func:`clusters_of`)."""
    root = clusters[0]
    tree = Tree(_tree_label(root), guide_style="dim")
    nodes = {root.name: tree}
    for c in clusters[1:]:  # depth order: every parent is placed before its children
        parent = nodes.get(c.parent, tree)
        nodes[c.name] = parent.add(_tree_label(c))
    return tree


def format_health_table(clusters: list[FleetCluster], now_ms: int) -> Table:
    """Nodes, agent connection and the last heartbeat (timestamp and age) per cluster."""
    table = _table("NAME", "PHASE", "CP", "WORKERS", "AGENT", "LAST HEARTBEAT", "AGO")
    for c in clusters:
        table.add_row(
            escape(c.name),
            _phase(c.phase),
            _counts(c.control_plane),
            _counts(c.workers),
            _agent(c),
            format_timestamp(c.last_heartbeat_ms),
            _age(c.last_heartbeat_ms, now_ms),
        )
    return table


def _iso(unix_ms: int) -> str | None:
    return format_timestamp(unix_ms) if unix_ms > 0 else None


def cluster_data(c: FleetCluster) -> dict[str, Any]:
    """One cluster as JSON-ready data (camelCase keys, RFC 3339 timestamps)."""
    return {
        "name": c.name,
        "parent": c.parent or None,
        "depth": c.depth,
        "role": c.role,
        "phase": c.phase,
        "provider": c.provider,
        "kubernetesVersion": c.kubernetes_version,
        "controlPlane": {"ready": c.control_plane[0], "total": c.control_plane[1]},
        "workers": {"ready": c.workers[0], "total": c.workers[1]},
        "pools": [
            {"name": p.name, "ready": p.ready, "total": p.total, "instanceType": p.instance_type}
            for p in c.pools
        ],
        "conditions": [
            {
                "type": cond.type,
                "status": cond.status,
                "reason": cond.reason,
                "message": cond.message,
                "lastTransitionTime": _iso(cond.last_transition_unix * 1000),
            }
            for cond in c.conditions
        ],
        "addons": fleet_addons.addons_data(c.conditions),
        "agent": {"state": c.agent, "version": c.agent_version},
        "lastHeartbeat": _iso(c.last_heartbeat_ms),
        "firstSeen": _iso(c.first_seen_ms),
    }


def health_data(c: FleetCluster, now_ms: int) -> dict[str, Any]:
    """What ``get health -o json`` prints per cluster."""
    seconds = (now_ms - c.last_heartbeat_ms) / 1000 if c.last_heartbeat_ms > 0 else None
    return {
        "name": c.name,
        "phase": c.phase,
        "controlPlane": {"ready": c.control_plane[0], "total": c.control_plane[1]},
        "workers": {"ready": c.workers[0], "total": c.workers[1]},
        "agent": c.agent,
        "lastHeartbeat": _iso(c.last_heartbeat_ms),
        "lastHeartbeatAgeSeconds": round(seconds, 3) if seconds is not None else None,
    }


def hierarchy_data(clusters: list[FleetCluster]) -> dict[str, Any]:
    """The tree as nested ``{"name", "phase", "agent", "children"}`` objects."""
    nodes: dict[str, dict[str, Any]] = {}
    root = clusters[0]
    for c in clusters:
        node = {"name": c.name, "phase": c.phase, "agent": c.agent, "children": []}
        nodes[c.name] = node
        if c is not root:
            nodes.get(c.parent, nodes[root.name])["children"].append(node)
    return nodes[root.name]


def render_text(renderable: RenderableType, width: int = 160) -> str:
    """Plain text of a renderable (no colours), e.g. for tests and logs."""
    console = Console(file=io.StringIO(), width=width, color_system=None, highlight=False)
    console.print(renderable)
    out = console.file.getvalue()  # type: ignore[attr-defined]
    return str(out)
