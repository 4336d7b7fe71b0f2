"""ServiceGraph: same objects as per-service compiles, incremental updates, the report."""

from __future__ import annotations

import pytest

from lattice_pulumi.compile.context import CompileContext
from lattice_pulumi.compile.mesh import compile_external_mesh, compile_service_mesh, render
from lattice_pulumi.compile.mesh.graph import ServiceGraph
from lattice_pulumi.compile.mesh.report import Verdict
from lattice_pulumi.spec.service import LatticeService
from tests.unit.compile.mesh import scenario


def _webapp() -> list[object]:
    return [
        scenario.service("webapp/frontend", out=["api"]),
        scenario.service("webapp/api", inbound=["frontend"], out=["db"]),
        scenario.service("webapp/db", inbound=["api"]),
    ]


def test_graph_objects_equal_independent_compiles() -> None:
    specs = [*_webapp(), scenario.external("pay/stripe", {"api": "https://x.io"}, ["webapp/api"])]
    graph = ServiceGraph.of(specs)
    context = CompileContext.of(specs)
    expected = []
    for key in graph.get_keys():
        spec = next(s for s in specs if f"{s.namespace}/{s.name}" == key)  # type: ignore[attr-defined]
        if isinstance(spec, LatticeService):
            expected += compile_service_mesh(spec, context)
        else:
            expected += compile_external_mesh(spec, context)  # type: ignore[arg-type]
    assert graph.all_objects() == expected


def test_update_returns_only_keys_whose_objects_changed() -> None:
    graph = ServiceGraph.of(_webapp())
    # api drops its inbound: only api's own ingress changes (frontend keeps its egress half)
    assert graph.update(scenario.service("webapp/api", out=["db"])) == {"webapp/api"}
    assert graph.report().verdict("webapp/frontend", "webapp/api") is Verdict.NO_INBOUND


def test_port_change_updates_the_callers_egress_too() -> None:
    graph = ServiceGraph.of(_webapp())
    changed = scenario.service("webapp/db", inbound=["api"], ports={"pg": 5432})
    assert graph.update(changed) == {"webapp/db", "webapp/api"}
    assert "5432" in str(graph.objects("webapp/api"))


def test_unchanged_update_changes_nothing() -> None:
    graph = ServiceGraph.of(_webapp())
    assert graph.update(scenario.service("webapp/db", inbound=["api"])) == set()


def test_remove_returns_the_key_and_its_callers() -> None:
    graph = ServiceGraph.of(_webapp())
    assert graph.remove("webapp/db") == {"webapp/db", "webapp/api"}
    assert graph.objects("webapp/db") == []
    assert "any port" in str(graph.objects("webapp/api"))
    assert graph.remove("webapp/db") == set()


def test_external_allowed_requesters_change_updates_its_callers() -> None:
    stripe = scenario.external("pay/stripe", {"api": "https://x.io"}, ["webapp/api"])
    api = scenario.service("webapp/api", externals=["pay/stripe"])
    graph = ServiceGraph.of([stripe, api])
    closed = scenario.external("pay/stripe", {"api": "https://x.io"}, [])
    assert graph.update(closed) == {"pay/stripe", "webapp/api"}


FINDINGS = [
    pytest.param(
        [scenario.service("webapp/frontend", out=["api"]), scenario.service("webapp/api")],
        "add to webapp/api spec.resources: frontend: {type: service, direction: inbound}",
        id="callee missing inbound",
    ),
    pytest.param(
        [scenario.service("a/web", out=["b/api"]), scenario.service("b/api")],
        "add to b/api spec.resources: web: {type: service, direction: inbound, namespace: a}",
        id="callee missing inbound across namespaces",
    ),
    pytest.param(
        [scenario.service("s/web"), scenario.service("s/api", inbound=["web"])],
        "add to s/web spec.resources: api: {type: service, direction: outbound}",
        id="caller missing outbound",
    ),
    pytest.param(
        [scenario.service("s/x", out=["y"]), scenario.service("s/y", out=["x"])],
        "change s/y spec.resources.x-outbound.direction to both",
        id="callee declares the caller as its own callee",
    ),
    pytest.param(
        [
            scenario.service("s/web", externals=["p/stripe"]),
            scenario.external("p/stripe", {"api": "https://x.io"}, []),
        ],
        "add to p/stripe spec.allowedRequesters: s/web",
        id="external service missing the requester",
    ),
]


@pytest.mark.parametrize(("specs", "fix"), FINDINGS)
def test_one_sided_declarations_are_reported_with_the_line_to_add(
    specs: list[object], fix: str
) -> None:
    fixes = [f.fix for f in ServiceGraph.of(specs).report().findings]
    assert fix in fixes


def test_unknown_references_and_wildcards_are_reported() -> None:
    specs = [
        scenario.service("s/web", out=["ghost"], inbound=["phantom"]),
        scenario.service("s/pub", any_caller=True),
    ]
    report = ServiceGraph.of(specs).report()
    messages = [f.message for f in report.findings]
    assert "spec.resources.ghost-outbound calls unknown service s/ghost" in messages
    assert "spec.resources.phantom-inbound accepts unknown service s/phantom" in messages
    assert report.wildcard_callees == ("s/pub",)


def test_renderers_show_allowed_and_denied_edges() -> None:
    specs = [
        scenario.service("s/web", out=["api", "db"]),
        scenario.service("s/api", inbound=["web"]),
        scenario.service("s/db"),
    ]
    report = ServiceGraph.of(specs).report()
    columns, rows = render.matrix(report)
    assert columns == ["s/api", "s/db", "s/web"]
    assert rows[2] == ["s/web", "allow", "deny (no inbound)", "-"]
    dot = render.to_dot(report)
    assert '"s/web" -> "s/api" [color="darkgreen"];' in dot
    mermaid = render.to_mermaid(report)
    assert "n2 --> n0" in mermaid and "n2 -.->|denied| n1" in mermaid
