"""The install-time credentials Secret: values from environment variables, clear errors."""

from __future__ import annotations

import json

import pytest

from lattice_pulumi.compile.cluster import build_credentials_secret
from lattice_pulumi.errors import CompileError
from tests.manifests import assert_valid
from tests.unit.compile.cluster.helpers import example

AWS_ENV = {"AWS_ACCESS_KEY_ID": "AKIAEXAMPLE", "AWS_SECRET_ACCESS_KEY": "s3cr3t"}
PROXMOX_ENV = {"PROXMOX_TOKEN": "lattice@pve!capi", "PROXMOX_SECRET": "0000-1111"}


def test_aws_keys_land_where_capa_reads_static_identities() -> None:
    _, cloud = example("aws")
    secret = build_credentials_secret(cloud, {**AWS_ENV, "AWS_SESSION_TOKEN": "session"})
    assert_valid([secret])
    assert secret["metadata"]["name"] == "aws-credentials"
    assert secret["metadata"]["namespace"] == "capa-system"
    assert secret["stringData"] == {
        "AccessKeyID": "AKIAEXAMPLE",
        "SecretAccessKey": "s3cr3t",
        "SessionToken": "session",
    }


@pytest.mark.parametrize(
    ("environ", "missing"),
    [
        pytest.param({}, "AWS_ACCESS_KEY_ID", id="nothing set"),
        pytest.param({"AWS_ACCESS_KEY_ID": "AKIA"}, "AWS_SECRET_ACCESS_KEY", id="no secret key"),
    ],
)
def test_aws_names_the_missing_variable(environ: dict[str, str], missing: str) -> None:
    _, cloud = example("aws")
    with pytest.raises(CompileError) as raised:
        build_credentials_secret(cloud, environ)
    assert str(raised.value) == (
        f"cloudprovider lattice-system/aws: environment variable {missing} is not set: "
        "the CloudProvider uses static AWS keys"
    )


def test_openstack_application_credential_becomes_clouds_yaml() -> None:
    _, cloud = example("openstack")
    environ = {
        "OS_AUTH_URL": "https://keystone.example.com:5000/v3",
        "OS_APPLICATION_CREDENTIAL_ID": "id-1",
        "OS_APPLICATION_CREDENTIAL_SECRET": "app-secret",
    }
    secret = build_credentials_secret(cloud, environ)
    assert_valid([secret])
    assert (secret["metadata"]["name"], secret["metadata"]["namespace"]) == (
        "openstack-clouds",
        "lattice-system",
    )
    clouds = json.loads(secret["stringData"]["clouds.yaml"])
    assert clouds["clouds"]["openstack"] == {
        "auth": {
            "auth_url": "https://keystone.example.com:5000/v3",
            "application_credential_id": "id-1",
            "application_credential_secret": "app-secret",
        },
        "auth_type": "v3applicationcredential",
        "region_name": "RegionOne",
        "interface": "public",
        "identity_api_version": 3,
    }


def test_openstack_password_login_needs_a_project() -> None:
    _, cloud = example("openstack")
    environ = {"OS_AUTH_URL": "https://k", "OS_USERNAME": "u", "OS_PASSWORD": "p"}
    with pytest.raises(CompileError, match="OS_PROJECT_NAME is not set"):
        build_credentials_secret(cloud, environ)


def test_proxmox_takes_the_url_from_the_cloud_provider() -> None:
    _, cloud = example("proxmox")
    secret = build_credentials_secret(cloud, PROXMOX_ENV)
    assert_valid([secret])
    assert secret["stringData"] == {
        "url": "https://pve1.lab.example.com:8006",
        "token": "lattice@pve!capi",
        "secret": "0000-1111",
    }


def test_proxmox_url_from_the_environment_must_agree() -> None:
    _, cloud = example("proxmox")
    with pytest.raises(CompileError, match="PROXMOX_URL https://other:8006 differs"):
        build_credentials_secret(cloud, {**PROXMOX_ENV, "PROXMOX_URL": "https://other:8006"})


def test_docker_has_no_credentials_secret() -> None:
    _, cloud = example("docker")
    with pytest.raises(CompileError, match="type docker uses no credentials Secret"):
        build_credentials_secret(cloud, {})
