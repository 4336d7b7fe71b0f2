"""Reading Kubernetes API requests like kube-apiserver's RequestInfoFactory."""

from __future__ import annotations

import pytest

from lattice_pulumi.cell.requestinfo import RequestInfo, cedar_verb, parse_request

CASES = [
    pytest.param(
        "GET", "/api/v1/namespaces/default/pods",
        RequestInfo("list", "/api/v1/namespaces/default/pods", True, "", "v1", "default", "pods"),
        id="list of a core resource in a namespace",
    ),
    pytest.param(
        "GET", "/api/v1/namespaces/default/pods/web?watch=true",
        RequestInfo("watch", "/api/v1/namespaces/default/pods/web", True, "", "v1", "default",
                    "pods", "", "web"),
        id="watch of one object",
    ),
    pytest.param(
        "GET", "/api/v1/watch/namespaces/default/pods",
        RequestInfo("watch", "/api/v1/watch/namespaces/default/pods", True, "", "v1", "default",
                    "pods"),
        id="legacy watch prefix",
    ),
    pytest.param(
        "DELETE", "/apis/apps/v1/namespaces/team/deployments",
        RequestInfo("deletecollection", "/apis/apps/v1/namespaces/team/deployments", True,
                    "apps", "v1", "team", "deployments"),
        id="delete without a name is deletecollection",
    ),
    pytest.param(
        "PATCH", "/apis/apps/v1/namespaces/team/deployments/web/status",
        RequestInfo("patch", "/apis/apps/v1/namespaces/team/deployments/web/status", True,
                    "apps", "v1", "team", "deployments", "status", "web"),
        id="patch of a subresource",
    ),
    pytest.param(
        "GET", "/api/v1/namespaces/team",
        RequestInfo("get", "/api/v1/namespaces/team", True, "", "v1", "team", "namespaces", "",
                    "team"),
        id="a namespace itself",
    ),
    pytest.param(
        "PUT", "/api/v1/namespaces/team/finalize",
        RequestInfo("update", "/api/v1/namespaces/team/finalize", True, "", "v1", "team",
                    "namespaces", "finalize", "team"),
        id="namespace finalize is a subresource of the namespace",
    ),
    pytest.param(
        "POST", "/api/v1/nodes",
        RequestInfo("create", "/api/v1/nodes", True, "", "v1", "", "nodes"),
        id="create of a cluster-scoped resource",
    ),
    pytest.param("GET", "/version", RequestInfo("get", "/version"), id="version"),
    pytest.param("GET", "/apis/apps/v1", RequestInfo("get", "/apis/apps/v1"), id="discovery"),
    pytest.param("GET", "/api", RequestInfo("get", "/api"), id="core discovery"),
    pytest.param("POST", "/openapi/v3", RequestInfo("post", "/openapi/v3"), id="non-resource"),
]  # fmt: skip


@pytest.mark.parametrize(("method", "target", "expected"), CASES)
def test_parse_request(method: str, target: str, expected: RequestInfo) -> None:
    assert parse_request(method, target) == expected


@pytest.mark.parametrize(
    ("method", "target", "verb"),
    [
        pytest.param("POST", "/api/v1/namespaces/a/pods/p/exec", "exec", id="exec"),
        pytest.param("GET", "/api/v1/namespaces/a/pods/p/attach", "exec", id="attach"),
        pytest.param("POST", "/api/v1/namespaces/a/pods/p/portforward", "exec", id="forward"),
        pytest.param("GET", "/api/v1/namespaces/a/pods/p/log", "get", id="logs are a get"),
        pytest.param("GET", "/openapi/v2", "get", id="non-resource read"),
        pytest.param("POST", "/openapi/v2", "post", id="non-resource write stays"),
    ],
)
def test_cedar_verb(method: str, target: str, verb: str) -> None:
    assert cedar_verb(parse_request(method, target)) == verb


def test_describe_reads_like_a_sentence() -> None:
    info = parse_request("GET", "/apis/apps/v1/namespaces/t/deployments/web/scale")
    assert info.describe() == "get apps/deployments/web/scale in t"
    assert parse_request("GET", "/version").describe() == "get /version"
