"""CloudProvider and SecretProvider: accepted documents and the exact refusals."""

from __future__ import annotations

import copy
from typing import Any

import pytest
from pydantic import BaseModel, ValidationError

from lattice_pulumi.spec.base import dump
from lattice_pulumi.spec.providers import CloudProvider, SecretProvider

SECRET = {"secretRef": {"name": "creds", "namespace": "lattice-system"}}
ROLE = "arn:aws:iam::123456789012:role/lattice"
KEY = {"name": "vault-token", "key": "token"}


def document(kind: str, spec: dict[str, Any]) -> dict[str, Any]:
    return {
        "apiVersion": "lattice.dev/v1alpha1",
        "kind": kind,
        "metadata": {"name": "main", "namespace": "lattice-system"},
        "spec": copy.deepcopy(spec),
    }


def cloud(**spec: Any) -> dict[str, Any]:
    return document("CloudProvider", spec)


def secrets(**spec: Any) -> dict[str, Any]:
    return document("SecretProvider", spec)


def vault(**auth: Any) -> dict[str, Any]:
    return secrets(vault={"server": "https://vault.example.com:8200", "path": "secret",
                          "auth": auth})


def errors_of(cls: type[BaseModel], doc: dict[str, Any]) -> list[tuple[tuple[str | int, ...], str]]:
    with pytest.raises(ValidationError) as caught:
        cls.model_validate(doc)
    return [(tuple(e["loc"]), e["msg"]) for e in caught.value.errors()]


VALID = [
    pytest.param(CloudProvider, cloud(type="aws", region="us-west-2", credentials=SECRET),
                 id="aws static keys"),
    pytest.param(CloudProvider, cloud(type="aws", aws={"roleArn": ROLE, "externalId": "x"}),
                 id="aws assumed role without keys"),
    pytest.param(CloudProvider, cloud(type="openstack", region="RegionOne", credentials=SECRET,
                                      openstack={"cloudName": "prod"}), id="openstack"),
    pytest.param(CloudProvider, cloud(type="proxmox", credentials=SECRET,
                                      proxmox={"url": "https://pve:8006"}), id="proxmox"),
    pytest.param(CloudProvider, cloud(type="docker"), id="docker needs nothing"),
    pytest.param(SecretProvider, vault(kubernetes={"role": "lattice"}), id="vault kubernetes auth"),
    pytest.param(SecretProvider, vault(tokenSecretRef=KEY), id="vault token"),
    pytest.param(SecretProvider, vault(appRole={"roleId": "r", "secretRef": KEY}),
                 id="vault approle"),
    pytest.param(SecretProvider, secrets(aws={
        "service": "ParameterStore", "region": "eu-west-1", "role": ROLE,
        "auth": {"secretRef": {"accessKeyIDSecretRef": {"name": "aws", "key": "id"},
                               "secretAccessKeySecretRef": {"name": "aws", "key": "secret"}}},
    }), id="aws parameter store with keys"),
    pytest.param(SecretProvider, secrets(aws={"service": "SecretsManager", "region": "us-east-1"}),
                 id="aws secrets manager with controller identity"),
    pytest.param(SecretProvider, secrets(kubernetes={
        "remoteNamespace": "shared", "auth": {"serviceAccount": {"name": "eso"}}}),
        id="kubernetes same cluster"),
    pytest.param(SecretProvider, secrets(gcpsm={
        "projectID": "my-project-123",
        "auth": {"workloadIdentity": {"clusterLocation": "europe-west1", "clusterName": "prod",
                                      "serviceAccountRef": {"name": "eso"}}},
    }), id="gcp workload identity"),
]


@pytest.mark.parametrize(("cls", "doc"), VALID)
def test_valid_provider_validates(cls: type[BaseModel], doc: dict[str, Any]) -> None:
    model = cls.model_validate(doc)
    assert cls.model_validate(dump(model)) == model


def test_eso_field_names_survive_a_dump() -> None:
    doc = secrets(aws={"service": "SecretsManager", "region": "us-east-1", "auth": {"secretRef": {
        "accessKeyIDSecretRef": {"name": "aws", "key": "id"},
        "secretAccessKeySecretRef": {"name": "aws", "key": "secret"}}}})
    out = dump(SecretProvider.model_validate(doc))
    assert sorted(out["spec"]["aws"]["auth"]["secretRef"]) == [
        "accessKeyIDSecretRef", "secretAccessKeySecretRef"]


SPEC = ("spec",)
INVALID = [
    pytest.param(CloudProvider, cloud(type="gcp"), ("spec", "type"),
                 "Input should be 'aws', 'openstack', 'proxmox' or 'docker'", id="unknown type"),
    pytest.param(CloudProvider, cloud(type="aws"), SPEC,
                 "Value error, type aws needs credentials.secretRef (static keys) or aws.roleArn "
                 "(assumed role)", id="aws without any identity"),
    pytest.param(CloudProvider, cloud(type="openstack", credentials=SECRET,
                                      aws={"roleArn": ROLE}), SPEC,
                 "Value error, aws is set but type is openstack: remove aws or set type: aws",
                 id="block of another type"),
    pytest.param(CloudProvider, cloud(type="proxmox", credentials=SECRET), SPEC,
                 "Value error, type proxmox needs a proxmox block with the API url",
                 id="proxmox without url"),
    pytest.param(CloudProvider, cloud(type="openstack"), SPEC,
                 "Value error, type openstack needs credentials.secretRef",
                 id="openstack without credentials"),
    pytest.param(CloudProvider, cloud(type="docker", credentials=SECRET), SPEC,
                 "Value error, the docker provider needs no credentials: remove credentials",
                 id="docker with credentials"),
    pytest.param(CloudProvider, cloud(type="docker", region="local"), SPEC,
                 "Value error, region is not used by the docker provider", id="docker region"),
    pytest.param(CloudProvider, cloud(type="aws", credentials={"secretRef": {"name": "c"},
                                                               "accessKey": "AKIA"}),
                 ("spec", "credentials", "accessKey"), "Extra inputs are not permitted",
                 id="inline secret refused"),
    pytest.param(CloudProvider, cloud(type="aws", aws={"roleArn": "lattice"}),
                 ("spec", "aws", "roleArn"),
                 "Value error, 'lattice' is not an IAM role ARN: expected "
                 "arn:aws:iam::123456789012:role/name", id="bad role arn"),
    pytest.param(CloudProvider, cloud(type="aws", credentials=SECRET, aws={"externalId": "x"}),
                 ("spec", "aws"),
                 "Value error, externalId applies to an assumed role: set roleArn as well",
                 id="external id without role"),
    pytest.param(SecretProvider, secrets(), SPEC,
                 "Value error, expected exactly one of vault, aws, kubernetes, gcpsm; got none",
                 id="no secret provider"),
    pytest.param(SecretProvider, secrets(
        aws={"service": "SecretsManager", "region": "us-east-1"},
        kubernetes={"auth": {"serviceAccount": {"name": "eso"}}}), SPEC,
        "Value error, expected exactly one of vault, aws, kubernetes, gcpsm; got aws, kubernetes",
        id="two secret providers"),
    pytest.param(SecretProvider, vault(), ("spec", "vault", "auth"),
                 "Value error, expected exactly one of kubernetes, tokenSecretRef, appRole; "
                 "got none", id="vault without auth"),
    pytest.param(SecretProvider, vault(kubernetes={"role": "r"}, tokenSecretRef=KEY),
                 ("spec", "vault", "auth"),
                 "Value error, expected exactly one of kubernetes, tokenSecretRef, appRole; "
                 "got kubernetes, tokenSecretRef", id="vault with two auth methods"),
    pytest.param(SecretProvider, secrets(vault={"server": "vault:8200",
                                                "auth": {"tokenSecretRef": KEY}}),
                 ("spec", "vault", "server"),
                 "Value error, 'vault:8200' is not an http(s) URL: expected https://host[:port]",
                 id="vault server without scheme"),
    pytest.param(SecretProvider, vault(tokenSecretRef={"name": "t", "key": "a b"}),
                 ("spec", "vault", "auth", "tokenSecretRef", "key"),
                 "Value error, 'a b' is not a Secret key: expected letters, digits, '-', '_' "
                 "or '.'",
                 id="bad secret key"),
    pytest.param(SecretProvider, secrets(aws={"service": "KMS", "region": "us-east-1"}),
                 ("spec", "aws", "service"),
                 "Input should be 'SecretsManager' or 'ParameterStore'", id="unknown aws service"),
    pytest.param(SecretProvider, secrets(kubernetes={"auth": {}}),
                 ("spec", "kubernetes", "auth"),
                 "Value error, expected exactly one of serviceAccount, token, cert; got none",
                 id="kubernetes without auth method"),
]


@pytest.mark.parametrize(("cls", "doc", "loc", "message"), INVALID)
def test_invalid_provider_names_field_and_problem(
    cls: type[BaseModel], doc: dict[str, Any], loc: tuple[str | int, ...], message: str
) -> None:
    assert errors_of(cls, doc) == [(loc, message)]


def test_every_provider_problem_is_reported_at_once() -> None:
    doc = secrets(vault={"server": "ftp://vault", "version": "v3", "auth": {}})
    assert errors_of(SecretProvider, doc) == [
        (("spec", "vault", "server"),
         "Value error, 'ftp://vault' is not an http(s) URL: expected https://host[:port]"),
        (("spec", "vault", "version"), "Input should be 'v1' or 'v2'"),
        (("spec", "vault", "auth"),
         "Value error, expected exactly one of kubernetes, tokenSecretRef, appRole; got none"),
    ]
