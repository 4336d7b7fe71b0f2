"""The operator's objects in the bootstrap bundle: valid, least privilege, in step with the CLI."""

from __future__ import annotations

from typing import Any

from lattice_pulumi.compile.agent import AGENT_IMAGE, AgentParent, compile_agent_bundle
from lattice_pulumi.compile.apiversions import API_VERSIONS
from lattice_pulumi.compile.operator_bundle import (
    LEASE_NAME,
    OPERATOR_PORT,
    compile_operator_objects,
)
from lattice_pulumi.operator.ownership import SERVICE_KINDS
from lattice_pulumi.operator.runner import OperatorConfig
from tests.manifests import assert_valid
from tests.unit.compile.test_agent_bundle import PARENT


def _by_kind(kind: str) -> dict[str, Any]:
    return next(o for o in compile_operator_objects("alpha", AGENT_IMAGE) if o["kind"] == kind)


def test_bundle_ends_with_the_operator_from_the_agent_image() -> None:
    objects = compile_agent_bundle("alpha", PARENT)
    operator = [o for o in objects if o["metadata"]["name"] == "lattice-operator"]
    assert operator == compile_operator_objects("alpha", PARENT.image)
    assert_valid(operator)


def test_the_deployment_runs_lattice_operator_run_with_probes() -> None:
    pod = _by_kind("Deployment")["spec"]["template"]["spec"]
    (container,) = pod["containers"]
    assert container["command"] + container["args"] == ["lattice", "operator", "run"]
    assert container["livenessProbe"]["httpGet"]["path"] == "/healthz"
    assert container["readinessProbe"]["httpGet"]["path"] == "/readyz"
    assert container["ports"][0]["containerPort"] == OPERATOR_PORT == OperatorConfig().port
    assert pod["serviceAccountName"] == "lattice-operator"
    assert pod["securityContext"]["runAsNonRoot"] is True


def test_cluster_role_covers_every_kind_the_service_compiler_emits_and_no_wildcards() -> None:
    rules = _by_kind("ClusterRole")["rules"]
    granted = {
        (group, resource)
        for rule in rules
        for group in rule["apiGroups"]
        for resource in rule["resources"]
        if "patch" in rule["verbs"] and "delete" in rule["verbs"]
    }
    for kind in SERVICE_KINDS:
        group = API_VERSIONS[kind].rpartition("/")[0]
        plurals = {r for g, r in granted if g == group}
        assert any(p.startswith(kind.lower()[:5]) for p in plurals), (kind, plurals)
    assert all("*" not in r["verbs"] and "*" not in r["resources"] for r in rules)
    secrets = [r for r in rules if "secrets" in r["resources"]]
    assert [r["verbs"] for r in secrets] == [["get"]]


def test_the_lease_role_names_only_the_operator_lease() -> None:
    role = _by_kind("Role")
    assert role["metadata"]["namespace"] == "lattice-system"
    named = [r for r in role["rules"] if "resourceNames" in r]
    assert named == [
        {
            "apiGroups": ["coordination.k8s.io"],
            "resources": ["leases"],
            "resourceNames": [LEASE_NAME],
            "verbs": ["get", "update"],
        }
    ]
    assert OperatorConfig().lease_name == LEASE_NAME


def test_parent_image_is_the_operator_image() -> None:
    parent = AgentParent(PARENT.endpoint, PARENT.enrol_url, PARENT.ca_pem, image="reg/x:1")
    deployment = compile_agent_bundle("alpha", parent)[-1]
    assert deployment["spec"]["template"]["spec"]["containers"][0]["image"] == "reg/x:1"
