"""No credential or token value reaches compiled output: only references do."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from lattice_pulumi.compile.cluster import (
    build_cluster_manifests,
    build_credentials_secret,
    compile_cluster,
)
from lattice_pulumi.errors import CompileError
from lattice_pulumi.spec.yamlout import dump_all
from tests.unit.compile.cluster.helpers import PARENT, PARENT_CA, example

SECRET_KEYS = {"AccessKeyID", "SecretAccessKey", "SessionToken", "password", "token", "secret"}


def _walk(node: Any) -> list[tuple[str, Any]]:
    if isinstance(node, dict):
        return [pair for key, value in node.items() for pair in [(key, value), *_walk(value)]]
    if isinstance(node, list):
        return [pair for item in node for pair in _walk(item)]
    return []


@pytest.mark.parametrize("provider", ["aws", "openstack", "proxmox", "docker"])
def test_output_holds_no_secret_objects_and_no_inline_credentials(provider: str) -> None:
    cluster, cloud = example(provider)
    objects = compile_cluster(cluster, cloud, PARENT) + build_cluster_manifests(cluster)
    assert not [o for o in objects if o["kind"] == "Secret"]
    inline = [(k, v) for k, v in _walk(objects) if k in SECRET_KEYS and isinstance(v, str)]
    assert inline == []


@settings(max_examples=25, deadline=None)
@given(value=st.text(alphabet="ABCDEFGHJKLMNPQRSTUVWXYZ23456789", min_size=16, max_size=40))
def test_credential_values_from_the_environment_never_reach_compiled_output(value: str) -> None:
    cluster, cloud = example("aws")
    environ = {"AWS_ACCESS_KEY_ID": value, "AWS_SECRET_ACCESS_KEY": value[::-1]}
    assert value in str(build_credentials_secret(cloud, environ))
    rendered = dump_all(compile_cluster(cluster, cloud, PARENT) + build_cluster_manifests(cluster))
    assert value not in rendered and value[::-1] not in rendered


def test_the_bootstrap_token_is_a_secret_reference() -> None:
    cluster, cloud = example("docker")
    (plane,) = [o for o in compile_cluster(cluster, cloud, PARENT) if "ControlPlane" in o["kind"]]
    (token,) = [f for f in plane["spec"]["kubeadmConfigSpec"]["files"] if "token" in f["path"]]
    assert token == {
        "path": "/etc/lattice/bootstrap-token",
        "owner": "root:root",
        "permissions": "0600",
        "contentFrom": {"secret": {"name": "dev-bootstrap-token", "key": "token"}},
    }


def test_a_private_key_in_the_parent_ca_is_refused() -> None:
    cluster, cloud = example("docker")
    key = "-----BEGIN EC PRIVATE KEY-----\nMHc\n-----END EC PRIVATE KEY-----\n"
    context = type(PARENT)(PARENT.bootstrap_endpoint, PARENT_CA + key)
    with pytest.raises(CompileError) as raised:
        compile_cluster(cluster, cloud, context)
    assert str(raised.value) == (
        "cluster dev context.parentCaPem: holds a private key: pass only the CA certificates"
    )
