"""What the agent sends to its API server: the caller impersonated, nothing forged."""

from __future__ import annotations

from lattice_pulumi.agent.proxy import proxied_request_headers, status_body
from lattice_pulumi.protocol import pb


def test_client_credentials_and_impersonation_are_replaced_by_the_caller() -> None:
    start = pb.ProxyStart(
        user="alice",
        groups=["dev", "system:authenticated"],
        headers=[
            pb.ProxyHeader(name="Accept", value="application/json"),
            pb.ProxyHeader(name="Authorization", value="Bearer stolen"),
            pb.ProxyHeader(name="Impersonate-User", value="system:admin"),
            pb.ProxyHeader(name="impersonate-group", value="system:masters"),
            pb.ProxyHeader(name="Impersonate-Extra-scopes", value="all"),
            pb.ProxyHeader(name="Connection", value="keep-alive"),
            pb.ProxyHeader(name="Content-Length", value="12"),
        ],
    )
    assert proxied_request_headers(start) == [
        ("Accept", "application/json"),
        ("Impersonate-User", "alice"),
        ("Impersonate-Group", "dev"),
        ("Impersonate-Group", "system:authenticated"),
    ]


def test_errors_are_kubernetes_status_objects() -> None:
    assert status_body(502, "ServiceUnavailable", "gone") == (
        b'{"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Failure", '
        b'"message": "gone", "reason": "ServiceUnavailable", "code": 502}'
    )
