"""The self-cluster planner: scaling, the version rollout, health checks and the status."""

from __future__ import annotations

import copy
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from lattice_pulumi.agent.health import health_from_nodes
from lattice_pulumi.cli.fleet_view import PHASES
from lattice_pulumi.compile.cluster import core
from lattice_pulumi.operator.cluster_plan import Change, Plan, plan_cluster
from lattice_pulumi.operator.cluster_versions import parse_version
from lattice_pulumi.spec.cluster import LatticeClusterStatus
from tests.unit.operator.cluster_builders import (
    cluster,
    compiled,
    control_plane,
    deployment,
    observed,
)


def _versions(plan: Plan) -> list[tuple[str, str]]:
    """(object name, version) of every version change, in order."""
    out = []
    for change in plan.changes:
        spec = change.body.get("spec", {})
        if "version" in spec:
            out.append((change.name, spec["version"]))
        elif "template" in spec:
            out.append((change.name, spec["template"]["spec"]["version"]))
    return out


def _condition(plan: Plan, kind: str) -> dict[str, Any]:
    return next(c for c in plan.status["conditions"] if c["type"] == kind)


# ---- the version rollout ------------------------------------------------------------------

ROLLOUT = [
    pytest.param(
        "1.32.0", control_plane("v1.32.0", "v1.32.0"), "v1.32.0", 2, [], "Done",
        id="everything at the target: nothing to do",
    ),
    pytest.param(
        "1.34.0", control_plane("v1.32.0", "v1.32.0"), "v1.32.0", 2,
        [("self-control-plane", "v1.33.0")], "ControlPlane",
        id="1.32 to 1.34 starts with the control plane at 1.33",
    ),
    pytest.param(
        "1.34.0", control_plane("v1.33.0", "v1.32.0", up_to_date=0), "v1.32.0", 2, [],
        "ControlPlane",
        id="pools wait while the control plane rolls",
    ),
    pytest.param(
        "1.34.0", control_plane("v1.33.0", "v1.33.0", up_to_date=0), "v1.32.0", 2, [],
        "ControlPlane",
        id="a reported version without every machine up to date is still rolling",
    ),
    pytest.param(
        "1.34.0", control_plane("v1.33.0", "v1.33.0"), "v1.32.0", 2,
        [("self-general", "v1.33.0")], "Pools",
        id="the control plane at 1.33 everywhere: pools follow to 1.33",
    ),
    pytest.param(
        "1.34.0", control_plane("v1.33.0", "v1.33.0"), "v1.33.0", 1, [], "Pools",
        id="the control plane waits while pools roll",
    ),
    pytest.param(
        "1.34.0", control_plane("v1.33.0", "v1.33.0"), "v1.33.0", 2,
        [("self-control-plane", "v1.34.0")], "ControlPlane",
        id="pools done at 1.33: the control plane goes to 1.34",
    ),
    pytest.param(
        "1.34.2", control_plane("v1.34.0", "v1.34.0"), "v1.34.0", 2,
        [("self-control-plane", "v1.34.2")], "ControlPlane",
        id="a patch release within the minor goes straight to the target",
    ),
    pytest.param(
        "1.35.1", control_plane("v1.33.4", "v1.33.4"), "v1.33.4", 2,
        [("self-control-plane", "v1.34.0")], "ControlPlane",
        id="an intermediate minor is its .0 release",
    ),
]  # fmt: skip


@pytest.mark.parametrize(
    ("target", "plane", "pool_version", "up_to_date", "want", "stage"), ROLLOUT
)
def test_rollout_steps(
    target: str,
    plane: dict[str, Any],
    pool_version: str,
    up_to_date: int,
    want: list[tuple[str, str]],
    stage: str,
) -> None:
    model = cluster(target)
    pools = {"general": deployment("general", pool_version, up_to_date=up_to_date)}
    plan = plan_cluster(model, observed(model, plane, pools), generation=3)
    assert _versions(plan) == want
    assert plan.status["versionRollout"]["stage"] == stage
    assert _condition(plan, "VersionUpgraded")["status"] == ("True" if stage == "Done" else "False")
    assert plan.settled == (stage == "Done")


REFUSED = [
    pytest.param(
        "1.31.0", control_plane("v1.32.0", "v1.32.0"), "v1.32.0", "DowngradeRefused",
        "spec.provider.kubernetes.version 1.31.0 is older than the control plane's 1.32.0: "
        "downgrades are refused (set 1.32.0 or newer)",
        id="a downgrade is refused",
    ),
    pytest.param(
        "1.32.1", control_plane("v1.32.2", "v1.32.2"), "v1.32.2", "DowngradeRefused",
        "spec.provider.kubernetes.version 1.32.1 is older than the control plane's 1.32.2: "
        "downgrades are refused (set 1.32.2 or newer)",
        id="a patch downgrade is refused",
    ),
    pytest.param(
        "1.33.0", control_plane("v1.34.0", "v1.33.0", up_to_date=0), "v1.33.0",
        "DowngradeRefused",
        "spec.provider.kubernetes.version 1.33.0 is older than the control plane's 1.34.0: "
        "downgrades are refused (set 1.34.0 or newer)",
        id="going back while the control plane rolls forward is refused",
    ),
    pytest.param(
        "2.0.0", control_plane("v1.32.0", "v1.32.0"), "v1.32.0", "SkipRefused",
        "2.0.0 is another major version than the control plane's 1.32.0: upgrades go one "
        "minor at a time within a major version",
        id="a major version change is refused",
    ),
    pytest.param(
        "1.35.0", control_plane("v1.34.0", "v1.32.0", up_to_date=0), "v1.32.0", "SkipRefused",
        "the control plane was set to 1.34.0 while it runs 1.32.0: that skips a minor version; "
        "set it to 1.32 or 1.33 on the control plane object",
        id="a control plane set past the next minor by hand is refused",
    ),
    pytest.param(
        "1.34.0", control_plane("v1.33.0", "v1.33.0"), "v1.34.0", "PoolAheadOfControlPlane",
        "pools general are set to a newer version than the control plane's 1.33.0: "
        "set them back to 1.33.0",
        id="a pool set past the control plane is refused",
    ),
]  # fmt: skip


@pytest.mark.parametrize(("target", "plane", "pool_version", "reason", "message"), REFUSED)
def test_refused_rollouts_change_no_version_and_say_why(
    target: str, plane: dict[str, Any], pool_version: str, reason: str, message: str
) -> None:
    model = cluster(target)
    pools = {"general": deployment("general", pool_version)}
    plan = plan_cluster(model, observed(model, plane, pools), generation=1)
    assert _versions(plan) == []
    condition = _condition(plan, "VersionUpgraded")
    assert (condition["status"], condition["reason"], condition["message"]) == (
        "False",
        reason,
        message,
    )
    assert plan.status["versionRollout"]["stage"] == "Refused"


def test_a_status_older_than_the_spec_is_not_settled() -> None:
    model = cluster("1.34.0")
    plane = control_plane("v1.33.0", "v1.33.0")
    plane["metadata"]["generation"] = 2  # the controller has not seen the latest spec
    plan = plan_cluster(
        model, observed(model, plane, {"general": deployment("general", "v1.32.0")}), 1
    )
    assert _versions(plan) == []
    assert _condition(plan, "VersionUpgraded")["reason"] == "UpgradingControlPlane"


def test_rke2_versions_are_spelled_as_the_compiler_spells_them() -> None:
    model = cluster("1.33.0", bootstrap="rke2")
    objs = compiled(model)
    plane = control_plane("v1.32.0+rke2r1", "v1.32.0+rke2r1", kind="RKE2ControlPlane")
    plan = plan_cluster(
        model, observed(model, plane, {"general": deployment("general", "v1.32.0+rke2r1")}), 1
    )
    assert _versions(plan) == [
        ("self-control-plane", objs["RKE2ControlPlane/self-control-plane"]["spec"]["version"])
    ]


def test_the_target_is_spelled_as_the_compiler_spells_it() -> None:
    model = cluster("1.33.0")
    objs = compiled(model)
    plane = control_plane("v1.32.0", "v1.32.0")
    plan = plan_cluster(
        model, observed(model, plane, {"general": deployment("general", "v1.32.0")}), 1
    )
    assert _versions(plan) == [
        ("self-control-plane", objs["KubeadmControlPlane/self-control-plane"]["spec"]["version"])
    ]


# ---- scaling ---------------------------------------------------------------------------------


def _patches(plan: Plan) -> list[tuple[str, dict[str, Any]]]:
    return [(c.name, c.body) for c in plan.changes if c.action == "patch"]


def test_a_fixed_pool_gets_its_replicas() -> None:
    model = cluster(pools={"general": {"replicas": 5}})
    plan = plan_cluster(
        model,
        observed(
            model,
            control_plane("v1.32.0", "v1.32.0"),
            {"general": deployment("general", "v1.32.0")},
        ),
        1,
    )
    assert _patches(plan) == [("self-general", {"spec": {"replicas": 5}})]
    scaled = _condition(plan, "PoolsScaled")
    assert (scaled["status"], scaled["reason"], scaled["message"]) == (
        "False",
        "Scaling",
        "pool general to 5",
    )
    assert plan.status["pools"] == [
        {"name": "general", "ready": 2, "desired": 5, "autoscaled": False, "version": "1.32.0"}
    ]


def test_an_autoscaled_pool_keeps_the_autoscalers_replicas_and_gets_its_bounds() -> None:
    model = cluster(pools={"gpu": {"min": 1, "max": 4}})
    plane = control_plane("v1.32.0", "v1.32.0")
    plan = plan_cluster(
        model, observed(model, plane, {"gpu": deployment("gpu", "v1.32.0", replicas=3)}), 1
    )
    bounds = {core.AUTOSCALER_MAX_SIZE: "4", core.AUTOSCALER_MIN_SIZE: "1"}
    assert _patches(plan) == [("self-gpu", {"metadata": {"annotations": bounds}})]
    assert plan.status["pools"][0]["desired"] == 3  # what the autoscaler asked for
    assert plan.status["pools"][0]["autoscaled"] is True
    again = observed(
        model, plane, {"gpu": deployment("gpu", "v1.32.0", replicas=3, annotations=bounds)}
    )
    assert plan_cluster(model, again, 1).changes == ()


def test_the_control_plane_gets_its_replicas() -> None:
    model = cluster(control_plane=3)
    plan = plan_cluster(
        model,
        observed(
            model,
            control_plane("v1.32.0", "v1.32.0"),
            {"general": deployment("general", "v1.32.0")},
        ),
        1,
    )
    assert _patches(plan) == [("self-control-plane", {"spec": {"replicas": 3}})]


def test_a_pool_without_machine_deployment_is_reported_not_created() -> None:
    model = cluster(pools={"general": {"replicas": 2}, "extra": {"replicas": 1}})
    plan = plan_cluster(
        model,
        observed(
            model,
            control_plane("v1.32.0", "v1.32.0"),
            {"general": deployment("general", "v1.32.0")},
        ),
        1,
    )
    assert [c.kind for c in plan.changes] == []
    scaled = _condition(plan, "PoolsScaled")
    assert (scaled["reason"], scaled["message"]) == (
        "PoolMissing",
        "no MachineDeployment for pools extra (created by lattice up)",
    )
    assert plan.status["phase"] == "Degraded"


def test_without_a_cluster_api_cluster_nothing_is_written() -> None:
    model = cluster()
    base = observed(model, None, {}, checks={})
    plan = plan_cluster(model, type(base)(None, None, {}, {}), 1)
    assert plan.changes == ()
    assert plan.status["phase"] == "Provisioning"
    assert _condition(plan, "VersionUpgraded")["message"] == "no Cluster API Cluster yet"


# ---- health checks ------------------------------------------------------------------------


def _applied(plan: Plan) -> list[tuple[str, str]]:
    return [(c.name, c.why) for c in plan.changes if c.action == "apply"]


def test_health_checks_are_recreated_and_restored_and_otherwise_left() -> None:
    model = cluster()
    objs = compiled(model)
    checks = {
        name.split("/")[1]: copy.deepcopy(o)
        for name, o in objs.items()
        if name.startswith("MachineHealthCheck/")
    }
    plane, pools = (
        control_plane("v1.32.0", "v1.32.0"),
        {"general": deployment("general", "v1.32.0")},
    )
    assert _applied(plan_cluster(model, observed(model, plane, pools, checks=checks), 1)) == []

    checks["self-general"]["spec"]["remediation"]["maxInFlight"] = 1  # a field we do not set
    assert _applied(plan_cluster(model, observed(model, plane, pools, checks=checks), 1)) == []

    checks["self-general"]["spec"]["checks"]["nodeStartupTimeoutSeconds"] = 60  # an edit
    del checks["self-control-plane"]
    assert _applied(plan_cluster(model, observed(model, plane, pools, checks=checks), 1)) == [
        ("self-control-plane", "recreate the missing MachineHealthCheck"),
        ("self-general", "restore the MachineHealthCheck's fields the compiler sets"),
    ]
    restored = next(
        c
        for c in plan_cluster(model, observed(model, plane, pools, checks=checks), 1).changes
        if c.name == "self-general"
    )
    assert restored.body == objs["MachineHealthCheck/self-general"]


# ---- status -------------------------------------------------------------------------------


def test_status_counts_ready_of_desired_per_pool() -> None:
    model = cluster(control_plane=3, pools={"a": {"replicas": 2}, "b": {"replicas": 3}})
    plane = control_plane("v1.32.0", "v1.32.0", replicas=3, ready=2)
    pools = {
        "a": deployment("a", "v1.32.0", replicas=2),
        "b": deployment("b", "v1.32.0", replicas=3, ready=1),
    }
    status = plan_cluster(model, observed(model, plane, pools), 7).status
    assert status["controlPlane"] == {"ready": 2, "desired": 3}
    assert status["workers"] == {"ready": 3, "desired": 5}
    assert (status["readyControlPlane"], status["readyWorkers"]) == (2, 3)
    assert [(p["name"], p["ready"], p["desired"]) for p in status["pools"]] == [
        ("a", 2, 2),
        ("b", 1, 3),
    ]
    assert status["phase"] == "Degraded"
    assert status["kubernetesVersion"] == "1.32.0"
    assert status["message"] == "control plane 2/3, workers 3/5 ready"
    assert status["observedGeneration"] == 7


def test_status_fits_the_model_and_speaks_the_fleet_views_words() -> None:
    model = cluster("1.33.0")
    plan = plan_cluster(
        model,
        observed(
            model,
            control_plane("v1.32.0", "v1.32.0"),
            {"general": deployment("general", "v1.32.0")},
        ),
        1,
    )
    LatticeClusterStatus.model_validate(plan.status)  # and so the generated CRD schema
    assert plan.status["phase"] in PHASES.values()
    _, health = health_from_nodes([])  # the agent's conditions, shown by lattice get cluster
    agent_conditions = {c.type for c in health.conditions}
    assert agent_conditions <= {c["type"] for c in plan.status["conditions"]}


# ---- properties -----------------------------------------------------------------------------


def _merge(into: dict[str, Any], patch: dict[str, Any]) -> None:
    for key, value in patch.items():
        if isinstance(value, dict) and isinstance(into.get(key), dict):
            _merge(into[key], value)
        else:
            into[key] = copy.deepcopy(value)


class _Cluster:
    """Cluster API objects the test moves forward as the providers would."""

    def __init__(self, version: str, pools: dict[str, int]) -> None:
        self.plane = control_plane(f"v{version}", f"v{version}")
        self.pools = {
            name: deployment(name, f"v{version}", replicas=n) for name, n in pools.items()
        }

    def apply(self, changes: tuple[Change, ...]) -> None:
        for change in changes:
            if change.action != "patch":
                continue
            target = (
                self.plane
                if change.name == "self-control-plane"
                else self.pools[change.name.removeprefix("self-")]
            )
            _merge(target, change.body)
            if "version" in change.body.get("spec", {}) or "template" in change.body.get(
                "spec", {}
            ):
                target["status"]["upToDateReplicas"] = 0
                target["status"]["availableReplicas"] = 0

    def progress(self, plane_moves: bool, pools_move: bool) -> None:
        if plane_moves:
            self.plane["status"]["version"] = self.plane["spec"]["version"]
            self.plane["status"]["upToDateReplicas"] = self.plane["spec"]["replicas"]
        if pools_move:
            for body in self.pools.values():
                body["status"]["upToDateReplicas"] = body["spec"]["replicas"]
                body["status"]["availableReplicas"] = body["spec"]["replicas"]


def _minor(text: str) -> int:
    version = parse_version(text)
    assert version is not None
    return version.minor


@settings(max_examples=150, deadline=None)
@given(
    start=st.integers(28, 33),
    ahead=st.integers(0, 4),
    patch=st.integers(0, 5),
    pools=st.dictionaries(st.sampled_from(["a", "b", "c"]), st.integers(0, 3), max_size=3),
    moves=st.lists(st.tuples(st.booleans(), st.booleans()), min_size=80, max_size=80),
)
def test_a_rollout_goes_one_minor_at_a_time_control_plane_first(
    start: int, ahead: int, patch: int, pools: dict[str, int], moves: list[tuple[bool, bool]]
) -> None:
    target = f"1.{start + ahead}.{patch}"
    model = cluster(target, pools={name: {"replicas": n} for name, n in pools.items()})
    state = _Cluster(f"1.{start}.0", pools)
    plane_versions = []
    for plane_moves, pools_move in [*moves, *[(True, True)] * 4 * (ahead + 1)]:
        plan = plan_cluster(model, observed(model, state.plane, state.pools), 1)
        running = _minor(state.plane["status"]["version"])
        versions = _versions(plan)
        plane_changes = [v for name, v in versions if name == "self-control-plane"]
        pool_changes = [v for name, v in versions if name != "self-control-plane"]
        assert not (plane_changes and pool_changes), "never pools and control plane at once"
        for version in plane_changes:
            assert _minor(version) - running <= 1, "never more than one minor"
            assert all(
                p["spec"]["template"]["spec"]["version"] == state.plane["spec"]["version"]
                for p in state.pools.values()
            )
            plane_versions.append(version)
        for version in pool_changes:
            assert version == state.plane["status"]["version"] == state.plane["spec"]["version"], (
                "pools follow a settled control plane"
            )
            assert state.plane["status"]["upToDateReplicas"] == state.plane["spec"]["replicas"]
        state.apply(plan.changes)
        state.progress(plane_moves, pools_move)
    final = plan_cluster(model, observed(model, state.plane, state.pools), 1)
    assert final.status["versionRollout"]["stage"] == "Done"
    assert final.settled
    expected = list(range(start + 1, start + ahead + 1)) if ahead else [start] * (patch > 0)
    assert [_minor(v) for v in plane_versions] == expected
    assert plane_versions[-1:] == ([f"v{target}"] if expected else [])


@settings(max_examples=60, deadline=None)
@given(running=st.integers(29, 34), back=st.integers(1, 3), patch=st.integers(0, 3))
def test_a_downgrade_never_changes_a_version(running: int, back: int, patch: int) -> None:
    model = cluster(f"1.{running - back}.{patch}")
    plane = control_plane(f"v1.{running}.0", f"v1.{running}.0")
    plan = plan_cluster(
        model, observed(model, plane, {"general": deployment("general", f"v1.{running}.0")}), 1
    )
    assert _versions(plan) == []
    assert _condition(plan, "VersionUpgraded")["reason"] == "DowngradeRefused"
