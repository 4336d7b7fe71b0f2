"""On random graphs of 50 services, the objects decide every pair as the rule does.

The simulator reads only the generated Cilium and Istio objects; the expectation comes from
``rule.is_allowed`` over the specs' declarations.
"""

from __future__ import annotations

import itertools

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from lattice_pulumi.compile.mesh import rule
from lattice_pulumi.spec.service import LatticeService
from tests.unit.compile.mesh import scenario

SIZE = 50
KEYS = [f"{'ab'[i % 2]}/s{i // 2}" for i in range(SIZE)]  # names repeat across namespaces


@st.composite
def graphs(draw: st.DrawFn) -> list[LatticeService]:
    pairs = draw(
        st.lists(
            st.tuples(
                st.sampled_from(KEYS), st.sampled_from(KEYS), st.sampled_from(["full", "out", "in"])
            ),
            max_size=200,
        )
    )
    wildcard = draw(st.sets(st.sampled_from(KEYS), max_size=4))
    portless = draw(st.sets(st.sampled_from(KEYS), max_size=4))
    out: dict[str, set[str]] = {k: set() for k in KEYS}
    inbound: dict[str, set[str]] = {k: set() for k in KEYS}
    for caller, callee, sides in pairs:
        if caller == callee:
            continue
        if sides in ("full", "out"):
            out[caller].add(callee)
        if sides in ("full", "in"):
            inbound[callee].add(caller)
    return [_service(k, out[k], inbound[k], k in wildcard, k in portless) for k in KEYS]


def _service(
    key: str, out: set[str], inbound: set[str], any_caller: bool, portless: bool
) -> LatticeService:
    both = out & inbound
    return scenario.service(
        key,
        out=sorted(out - both),
        inbound=sorted(inbound - both),
        both=sorted(both),
        any_caller=any_caller,
        ports={} if portless else None,
    )


@settings(max_examples=8, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(graphs())
def test_generated_objects_agree_with_the_rule(services: list[LatticeService]) -> None:
    _, cluster = scenario.compile_world(services)
    declarations = {f"{s.namespace}/{s.name}": rule.declarations_of(s) for s in services}
    pods = {key: scenario.pod(key) for key in declarations}
    for caller, callee in itertools.permutations(declarations, 2):
        expected = rule.is_allowed(declarations[caller], declarations[callee])
        actual = cluster.allows(pods[caller], pods[callee], scenario.TARGET_PORT)
        assert actual is expected, f"{caller} -> {callee}"
