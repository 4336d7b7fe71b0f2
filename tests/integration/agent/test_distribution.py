"""Distribution end to end: CedarPolicies and providers written in the root reach prod and
us-east through the cells and agents, change there, and go away there, on real API servers
with real gRPC. Local objects in prod are never touched; a name clash is kept and reported.
The agent's RBAC is checked with the real ``kubectl auth can-i``.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from conftest import CellFactory, RunningAgents
from distribution_support import (
    API,
    NAMESPACE,
    PREFIX,
    DistributionFleet,
    cedar_policy,
    distribution_fleet,
    find,
    holds_for,
    until,
)
from harness.control_plane import ControlPlane
from harness.crds import install_crds
from harness.kube import ApiError, KubeClient
from proxy_support import AGENT_ACCOUNT, kubectl

from lattice_pulumi import pki
from lattice_pulumi.protocol import pb
from lattice_pulumi.protocol.distribution import (
    DISTRIBUTED_BY_LABEL,
    ORIGIN_ANNOTATION,
    SOURCE_GENERATION_ANNOTATION,
    SOURCE_UID_ANNOTATION,
)
from lattice_pulumi.spec.crds import build_crds

pytestmark = pytest.mark.integration

ALLOW = 'permit(principal, action == Lattice::Action::"get", resource);'
ALLOW_MORE = (
    'permit(principal, action in [Lattice::Action::"get", Lattice::Action::"list"], resource);'
)


@pytest.fixture(scope="module")
def planes(
    control_plane: ControlPlane, proxy_children: dict[str, ControlPlane]
) -> dict[str, ControlPlane]:
    """Root and children with the Lattice CRDs, and lattice-system in the root."""
    control_plane.client.apply(
        {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": NAMESPACE}}
    )
    for plane in [control_plane, *proxy_children.values()]:
        install_crds(plane.client, build_crds())
        for kind in ("CedarPolicy", "CloudProvider", "SecretProvider"):
            # served is not yet listable: the CRD's storage answers 429 for a moment
            kc = plane.client
            kc.wait_for(lambda kc=kc, kind=kind: _listable(kc, kind), timeout=30)
    return {"root": control_plane, **proxy_children}


@pytest.fixture
async def fleet(
    planes: dict[str, ControlPlane],
    cell_factory: CellFactory,
    agents: RunningAgents,
    ca: pki.CertificateAuthority,
    tmp_path: Path,
) -> AsyncIterator[DistributionFleet]:
    children = {name: planes[name] for name in ("prod", "us-east")}
    async with distribution_fleet(
        planes["root"], children, cell_factory, agents, ca, tmp_path / "d"
    ) as running:
        yield running


def _listable(kc: KubeClient, kind: str) -> bool:
    try:
        kc.list(API, kind)
    except ApiError:
        return False
    return True


def spec_of(fleet: DistributionFleet, cluster: str, name: str) -> Any:
    obj = find(fleet.kc(cluster), "CedarPolicy", name)
    return None if obj is None else obj["spec"]["policies"]


async def test_a_policy_reaches_both_levels_changes_there_and_goes_away(
    fleet: DistributionFleet,
) -> None:
    name = f"{PREFIX}shared"
    first = cedar_policy(name, ALLOW, labels={"team": "a"})
    first["spec"]["description"] = "read only"
    source = fleet.kc("root").apply(first)
    await until(lambda: spec_of(fleet, "us-east", name) == ALLOW)
    prod, east = (find(fleet.kc(c), "CedarPolicy", name) for c in ("prod", "us-east"))
    assert prod is not None and east is not None
    assert prod["metadata"]["labels"][DISTRIBUTED_BY_LABEL] == "root"
    assert east["metadata"]["labels"][DISTRIBUTED_BY_LABEL] == "prod"
    for copy in (prod, east):
        annotations = copy["metadata"]["annotations"]
        assert annotations[ORIGIN_ANNOTATION] == "root"
        assert annotations[SOURCE_UID_ANNOTATION] == source["metadata"]["uid"]
        assert annotations[SOURCE_GENERATION_ANNOTATION] == "1"
        assert copy["metadata"]["labels"]["team"] == "a"
        assert copy["spec"]["description"] == "read only"
        managers = {(m["manager"], m["operation"]) for m in copy["metadata"]["managedFields"]}
        assert managers == {("lattice-agent-distribution", "Apply")}

    changed = cedar_policy(name, ALLOW_MORE)
    fleet.kc("root").apply(changed)
    await until(lambda: spec_of(fleet, "prod", name) == ALLOW_MORE)
    await until(lambda: spec_of(fleet, "us-east", name) == ALLOW_MORE)
    for cluster in ("prod", "us-east"):  # what the change removed is gone there too
        copy = find(fleet.kc(cluster), "CedarPolicy", name)
        assert copy is not None
        assert copy["metadata"]["annotations"][SOURCE_GENERATION_ANNOTATION] == "2"
        assert "description" not in copy["spec"]
        assert "team" not in copy["metadata"]["labels"]

    fleet.kc("root").delete(API, "CedarPolicy", name, NAMESPACE)
    await until(lambda: spec_of(fleet, "prod", name) is None)
    await until(lambda: spec_of(fleet, "us-east", name) is None)
    report = fleet.distributors["root"].reports["prod"]
    assert report.kinds["CedarPolicy"].deleted == 1 and not report.kinds["CedarPolicy"].error


async def test_local_objects_survive_and_a_name_clash_is_kept_and_reported(
    fleet: DistributionFleet,
) -> None:
    prod = fleet.kc("prod")
    local, clash = f"{PREFIX}local", f"{PREFIX}clash"
    prod.create(cedar_policy(local, ALLOW, propagate=False))
    prod.create(cedar_policy(clash, ALLOW, propagate=False))
    fleet.kc("root").create(cedar_policy(clash, ALLOW_MORE))
    fleet.kc("root").create(cedar_policy(f"{PREFIX}other", ALLOW))
    await until(lambda: find(prod, "CedarPolicy", f"{PREFIX}other") is not None)

    def reported() -> list[tuple[str, str, str]]:
        report = fleet.distributors["root"].reports.get("prod")
        return [] if report is None else [(p.reason, p.name, p.kind) for p in report.conflicts()]

    await until(lambda: reported() == [("Conflict", clash, "CedarPolicy")])
    [problem] = fleet.distributors["root"].reports["prod"].conflicts()
    assert "exists in this cluster and was not made by distribution" in problem.message
    # several sync rounds later (and after a resync) both local objects are as written
    fleet.distributors["root"].resync_interval = 0.2
    assert await holds_for(lambda: spec_of(fleet, "prod", clash) == ALLOW, 1.0)
    kept = find(prod, "CedarPolicy", clash)
    assert kept is not None and DISTRIBUTED_BY_LABEL not in kept["metadata"].get("labels", {})
    assert spec_of(fleet, "prod", local) == ALLOW
    # prod's own policies are not propagated: us-east has the root's, not prod's
    assert spec_of(fleet, "us-east", f"{PREFIX}other") == ALLOW
    assert spec_of(fleet, "us-east", local) is None and spec_of(fleet, "us-east", clash) is None

    # a distributed copy edited by hand in prod is put back by the next resync
    prod.apply(cedar_policy(f"{PREFIX}other", ALLOW_MORE), field_manager="by-hand")
    await until(lambda: spec_of(fleet, "prod", f"{PREFIX}other") == ALLOW)

    # the clash cleared in prod: the next resync applies the root's copy
    prod.delete(API, "CedarPolicy", clash, NAMESPACE)
    await until(lambda: spec_of(fleet, "prod", clash) == ALLOW_MORE)
    await until(lambda: reported() == [])


async def test_an_agent_back_after_a_deletion_prunes_on_the_full_resync(
    fleet: DistributionFleet,
) -> None:
    kept, dropped = f"{PREFIX}kept", f"{PREFIX}dropped"
    for name in (kept, dropped):
        fleet.kc("root").create(cedar_policy(name, ALLOW))
    await until(lambda: spec_of(fleet, "us-east", dropped) == ALLOW)
    syncs = fleet.handlers["prod"].syncs

    await fleet.restart_prod_agent(
        lambda: fleet.kc("root").delete(API, "CedarPolicy", dropped, NAMESPACE)
    )
    await until(lambda: spec_of(fleet, "prod", dropped) is None)
    await until(lambda: spec_of(fleet, "us-east", dropped) is None)
    assert spec_of(fleet, "prod", kept) == ALLOW and spec_of(fleet, "us-east", kept) == ALLOW
    assert fleet.handlers["prod"].syncs > syncs


async def test_providers_go_everywhere_unless_kept_home_or_aimed_elsewhere(
    fleet: DistributionFleet,
) -> None:
    root = fleet.kc("root")
    vault = {
        "server": "https://vault.example.com",
        "auth": {"tokenSecretRef": {"name": "vault-token", "key": "token"}},
    }
    root.create(
        {
            "apiVersion": API,
            "kind": "SecretProvider",
            "metadata": {"name": f"{PREFIX}vault", "namespace": NAMESPACE},
            "spec": {"vault": vault},
        }
    )
    root.create(
        {
            "apiVersion": API,
            "kind": "CloudProvider",
            "metadata": {"name": f"{PREFIX}docker", "namespace": NAMESPACE},
            "spec": {"type": "docker"},
        }
    )
    root.create(
        {
            "apiVersion": API,
            "kind": "CloudProvider",
            "metadata": {
                "name": f"{PREFIX}home",
                "namespace": NAMESPACE,
                "labels": {"lattice.dev/distribute": "false"},
            },
            "spec": {"type": "docker"},
        }
    )
    root.create(
        cedar_policy(
            f"{PREFIX}east-only",
            ALLOW,
            annotations={"lattice.dev/distribute-to": "environment=production"},
        )
    )
    root.create(
        cedar_policy(
            f"{PREFIX}elsewhere",
            ALLOW,
            annotations={"lattice.dev/distribute-to": "environment in (staging)"},
        )
    )
    east = fleet.kc("us-east")
    await until(lambda: find(east, "SecretProvider", f"{PREFIX}vault") is not None)
    await until(lambda: find(east, "CloudProvider", f"{PREFIX}docker") is not None)
    await until(lambda: spec_of(fleet, "us-east", f"{PREFIX}east-only") == ALLOW)
    copied = find(east, "SecretProvider", f"{PREFIX}vault")
    source = find(root, "SecretProvider", f"{PREFIX}vault")
    assert copied is not None and source is not None
    assert copied["spec"] == source["spec"]  # the Secret's name and key, never its data
    assert copied["spec"]["vault"]["auth"] == vault["auth"]
    for cluster in ("prod", "us-east"):
        assert find(fleet.kc(cluster), "CloudProvider", f"{PREFIX}home") is None
        assert spec_of(fleet, cluster, f"{PREFIX}elsewhere") is None


async def test_the_agent_account_reaches_exactly_the_distributed_kinds(
    planes: dict[str, ControlPlane],
) -> None:
    admin = planes["prod"].kubeconfig_path
    kinds = ("cedarpolicies", "cloudproviders", "secretproviders")
    allowed = [
        (verb, f"{k}.lattice.dev")
        for k in kinds
        for verb in ("list", "watch", "create", "patch", "delete")
    ]
    refused = [
        *((verb, f"{k}.lattice.dev") for k in kinds for verb in ("update", "deletecollection")),
        ("create", "latticeservices.lattice.dev"),
        ("patch", "latticeclusters.lattice.dev"),
        ("delete", "latticeexternalservices.lattice.dev"),
        ("list", "secrets"),
        ("create", "namespaces"),
    ]
    for verb, resource in allowed + refused:
        _, out, err = await kubectl(
            admin, "auth", "can-i", verb, resource, "-A", f"--as={AGENT_ACCOUNT}"
        )
        expected = "yes" if (verb, resource) in allowed else "no"
        assert out.strip() == expected, (verb, resource, err)


async def test_a_malformed_set_is_refused_whole_and_prunes_nothing(
    fleet: DistributionFleet,
) -> None:
    name = f"{PREFIX}stays"
    fleet.kc("root").create(cedar_policy(name, ALLOW))
    await until(lambda: spec_of(fleet, "prod", name) == ALLOW)
    await fleet.distributors["root"].stop()  # nothing corrects prod while this test speaks
    unmarked = json.dumps(cedar_policy(f"{PREFIX}unmarked", ALLOW)).encode()
    cases = {
        "LatticeService": (
            [],
            "SyncResources of 'LatticeService': expected one of CloudProvider, "
            "SecretProvider, CedarPolicy",
        ),
        "CedarPolicy": (
            [unmarked],
            "SyncResources of CedarPolicy: resources[0]: expected the "
            "lattice.dev/distributed-by label and lattice.dev/origin-cluster annotation",
        ),
    }
    for kind, (resources, error) in cases.items():
        command = pb.CellCommand(sync_resources=pb.SyncResources(kind=kind, resources=resources))
        reply = await fleet.root.request("prod", command)
        assert (reply.ok, reply.error) == (False, error)
    assert spec_of(fleet, "prod", name) == ALLOW
    assert find(fleet.kc("prod"), "CedarPolicy", f"{PREFIX}unmarked") is None
