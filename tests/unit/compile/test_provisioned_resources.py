"""Score resources provisioned from data: every built-in provisioner, the Online Boutique cart
(golden file, validity, mesh), sharing by id, and exact messages for bad provisioner files."""

from __future__ import annotations

import os
from typing import Any

import pytest

from lattice_pulumi.compile.context import CompileContext
from lattice_pulumi.compile.service import compile_service
from lattice_pulumi.errors import CompileError, SpecErrors
from lattice_pulumi.spec import loader
from lattice_pulumi.spec.provisioners import builtin_provisioners, load_provisioner_text
from lattice_pulumi.spec.service import LatticeService
from lattice_pulumi.spec.yamlout import dump_all as dump_yaml
from tests.conftest import EXAMPLES, ROOT
from tests.manifests import assert_valid
from tests.unit.compile.mesh.simulator import Cluster, Pod

GOLDEN = ROOT / "tests" / "golden" / "boutique-cart.yaml"
BUILTIN = builtin_provisioners()

# type: (outputs a consumer may use, secret outputs, does it run a workload)
EXPECTED = {
    "postgres": ({"host", "port", "name", "database", "username", "password", "uri"},
                 {"password", "uri"}, True),
    "mysql": ({"host", "port", "name", "database", "username", "password", "uri"},
              {"password", "uri"}, True),
    "redis": ({"host", "port", "username", "password", "uri"}, {"password", "uri"}, True),
    "amqp": ({"host", "port", "vhost", "username", "password", "uri"}, {"password", "uri"}, True),
    "mongodb": ({"host", "port", "username", "password", "connection", "uri"},
                {"password", "connection", "uri"}, True),
    "kafka-topic": ({"host", "port", "name", "num_partitions"}, set(), True),
    "s3": ({"endpoint", "region", "bucket", "access_key_id", "aws_access_key_id", "secret_key",
            "aws_secret_key"},
           {"access_key_id", "aws_access_key_id", "secret_key", "aws_secret_key"}, True),
    "dns": ({"host", "url"}, set(), False),
    "route": (set(), set(), False),
}


def _service(name: str, resources: dict[str, Any], variables: dict[str, str]) -> LatticeService:
    return LatticeService.model_validate({
        "apiVersion": "lattice.dev/v1alpha1", "kind": "LatticeService",
        "metadata": {"name": name, "namespace": "shop"},
        "spec": {"containers": {"main": {"image": "app:1", "variables": variables}},
                 "service": {"ports": {"http": {"port": 8080}}}, "resources": resources},
    })


def _compile(*services: LatticeService) -> list[dict[str, Any]]:
    context = CompileContext.of(list(services), provisioners=BUILTIN)
    return [obj for s in services for obj in compile_service(s, context)]


def _kinds(objects: list[dict[str, Any]]) -> list[str]:
    return [f"{o['kind']}/{o['metadata']['name']}" for o in objects]


def test_every_builtin_type_is_covered() -> None:
    assert sorted(p.type for p in BUILTIN) == sorted(EXPECTED)


@pytest.mark.parametrize("kind", sorted(EXPECTED), ids=lambda k: f"built-in {k}")
def test_builtin_provisioner_outputs_objects_and_secrets(kind: str) -> None:
    outputs, secret, workload = EXPECTED[kind]
    entry = next(p for p in BUILTIN if p.type == kind)
    assert set(entry.outputs) == outputs
    assert set(entry.secret_outputs) == secret
    variables = {f"V_{o.upper()}": f"${{resources.res.{o}}}" for o in sorted(outputs)}
    objects = _compile(_service("app", {"res": {"type": kind}}, variables))
    assert _compile(_service("app", {"res": {"type": kind}}, variables)) == objects
    names = _kinds(objects)
    assert ("StatefulSet/app-res" in names) is workload
    assert ("CiliumNetworkPolicy/app-res-mesh" in names) is workload
    assert ("ExternalSecret/app-res" in names) is bool(entry.secrets)
    env = next(o for o in objects if o["kind"] == "Deployment")["spec"]["template"]["spec"][
        "containers"][0].get("env", [])
    for item in env:
        output = item["name"][2:].lower()
        ref = item["valueFrom"].get("secretKeyRef")
        if output in secret:
            assert ref == {"name": "app-res", "key": output}, item
        else:
            assert ref is None, item


@pytest.mark.parametrize("kind", sorted(EXPECTED), ids=lambda k: f"built-in {k} valid")
def test_builtin_provisioner_objects_are_valid(kind: str) -> None:
    variables = {f"V_{o.upper()}": f"${{resources.res.{o}}}" for o in sorted(EXPECTED[kind][0])}
    assert_valid(_compile(_service("app", {"res": {"type": kind}}, variables)))


def test_password_generator_fields_follow_the_eso_schema() -> None:
    objects = _compile(_service("app", {"db": {"type": "mysql"}}, {}))
    generators = [o for o in objects if o["kind"] == "Password"]
    names = [g["metadata"]["name"] for g in generators]
    assert names == ["app-db-password", "app-db-root-password"]
    for generator in generators:
        assert generator["apiVersion"] == "generators.external-secrets.io/v1alpha1"
        spec = generator["spec"]
        assert {"length", "noUpper", "allowRepeat"} <= set(spec)  # required by the CRD
        assert set(spec) <= {"length", "digits", "symbols", "symbolCharacters", "noUpper",
                             "allowRepeat"}


def test_params_override_defaults_and_unknown_params_fail() -> None:
    objects = _compile(_service("app", {"db": {"type": "postgres",
                                               "params": {"storage": "20Gi"}}}, {}))
    sts = next(o for o in objects if o["kind"] == "StatefulSet")
    claim = sts["spec"]["volumeClaimTemplates"][0]
    assert claim["spec"]["resources"]["requests"]["storage"] == "20Gi"
    with pytest.raises(Exception, match="takes no param 'size'"):
        _compile(_service("app", {"db": {"type": "postgres", "params": {"size": "1"}}}, {}))


def test_no_secret_value_is_ever_written() -> None:
    objects = _compile(_service("app", {"db": {"type": "postgres"}},
                                {"URL": "${resources.db.uri}"}))
    text = dump_yaml(objects)
    assert "kind: Secret\n" not in text and "stringData" not in text
    assert "refreshPolicy: CreatedOnce" in text


def _boutique() -> list[dict[str, Any]]:
    resources = loader.load(EXAMPLES / "boutique")
    context = CompileContext.of(list(resources), provisioners=BUILTIN)
    return [o for r in resources if isinstance(r, LatticeService)
            for o in compile_service(r, context)]


def test_boutique_cart_matches_its_golden_file() -> None:
    text = dump_yaml(_boutique())
    assert dump_yaml(_boutique()) == text
    if os.environ.get("UPDATE_GOLDEN"):
        GOLDEN.write_text(text)
    assert text == GOLDEN.read_text()


def test_boutique_cart_objects_are_valid() -> None:
    assert_valid(_boutique())


def _pod(name: str, namespace: str = "default") -> Pod:
    return Pod(namespace, {"lattice.dev/service": name, "app.kubernetes.io/name": name}, name)


def test_only_cart_reaches_the_redis_it_provisioned() -> None:
    cluster = Cluster(_boutique())
    redis, cart = _pod("cart-redis-cart"), _pod("cart")
    assert cluster.allows(cart, redis, 6379)
    for intruder in (_pod("frontend"), _pod("checkout"), _pod("cart", "other")):
        assert not cluster.allows(intruder, redis, 6379), intruder
    assert not cluster.allows(redis, cart, 7070)


def test_a_resource_shared_by_id_lets_every_consumer_in_once() -> None:
    shared = {"cache": {"type": "redis", "id": "shared-cache"}}
    a, b = _service("a", shared, {}), _service("b", shared, {})
    objects = _compile(a, b, _service("c", {}, {}))
    assert _kinds(objects).count("StatefulSet/shared-cache") == 1
    cluster = Cluster(objects)
    redis = Pod("shop", {"lattice.dev/service": "shared-cache"}, "shared-cache")
    assert cluster.allows(Pod("shop", {"lattice.dev/service": "a"}, "a"), redis, 6379)
    assert cluster.allows(Pod("shop", {"lattice.dev/service": "b"}, "b"), redis, 6379)
    assert not cluster.allows(Pod("shop", {"lattice.dev/service": "c"}, "c"), redis, 6379)


BAD_FILES = [
    pytest.param("- class: x\n", ["p.yaml:1:3 [0].type: required field is missing"],
                 id="entry without type"),
    pytest.param("- type: cache\n  outputs: {host: '${nme}'}\n",
                 ["p.yaml:2:13 [0].outputs.host: '${nme}' is not a template reference (known: "
                  "name, namespace, secretName, workload, params, cluster, secrets)"],
                 id="unknown template root"),
    pytest.param("- type: cache\n  outputs: {p: '${secrets.pw}'}\n",
                 ["p.yaml:2:13 [0].outputs.p: '${secrets.pw}' names no entry of secrets "
                  "(have: none)"],
                 id="undeclared secret"),
    pytest.param("- type: cache\n  objects:\n  - kind: Service\n"
                 "    metadata: {name: '${secrets.a}'}\n",
                 ["p.yaml:3:5 [0].objects[0]: expected a Kubernetes object with apiVersion "
                  "and kind",
                  "p.yaml:4:16 [0].objects[0].metadata.name: '${secrets.a}': secrets are only "
                  "usable in outputs (objects use ${secretName})"],
                 id="object without apiVersion and a secret in an object"),
    pytest.param("type: cache\nports: {db: 70000}\n",
                 ["p.yaml:2:1 ports: port 'db' is 70000: expected 1..65535"],
                 id="port out of range"),
    pytest.param("type: cache\nparams: {}\noutputs: {a: '${params.size}'}\n",
                 ["p.yaml:3:11 outputs.a: '${params.size}' names no default in params "
                  "(have: none)"],
                 id="param without default"),
    pytest.param("- type: cache\n  colour: red\n",
                 ["p.yaml:2:3 [0].colour: unknown field (fields are camelCase; check the "
                  "spelling)"],
                 id="unknown field"),
]


@pytest.mark.parametrize(("text", "expected"), BAD_FILES)
def test_bad_provisioner_file_says_file_path_and_what_is_expected(
    text: str, expected: list[str]
) -> None:
    with pytest.raises(SpecErrors) as info:
        load_provisioner_text(text, "p.yaml")
    assert [str(e) for e in info.value.errors] == expected


def test_consumers_sharing_an_id_must_agree_on_params() -> None:
    a = _service("a", {"db": {"type": "postgres", "id": "orders"}}, {})
    b = _service("b", {"db": {"type": "postgres", "id": "orders",
                              "params": {"storage": "9Gi"}}}, {})
    with pytest.raises(CompileError) as info:
        _compile(a, b)
    assert str(info.value) == (
        "service shop/a spec.workload.resources.db.params: resource id 'orders' is shared with "
        "shop/b, which give other params: a shared resource needs the same params everywhere"
    )


def test_a_provisioned_name_too_long_for_a_statefulset_is_an_error() -> None:
    long = "a" * 45
    with pytest.raises(CompileError) as info:
        _compile(_service("inventory", {long: {"type": "redis"}}, {}))
    assert str(info.value) == (
        f"service shop/inventory spec.workload.resources.{long}: provisioned name "
        f"'inventory-{long}' is 55 characters, at most 52 fit (StatefulSet pods and labels): "
        "shorten the resource name or give it an id"
    )
