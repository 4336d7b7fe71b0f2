"""compile_service: workload objects, env and files, security, storage, GPU, config hash."""

from __future__ import annotations

import base64
from typing import Any

import pytest

from lattice_pulumi.compile.labels import MANAGED_BY, SERVICE_LABEL
from lattice_pulumi.compile.service import compile_service
from lattice_pulumi.errors import CompileError, PolicyDenied
from tests.builders import changed, service
from tests.manifests import assert_valid
from tests.unit.compile.service.helpers import container, context, find, load_service, pod

SECRET = {
    "type": "secret",
    "id": "shop/db",
    "params": {"provider": "vault", "keys": ["user", "password"]},
}
MAIN = "spec.containers.main"


def compile_doc(doc: dict[str, Any], *others: Any, **kwargs: Any) -> list[dict[str, Any]]:
    svc = load_service(doc)
    objects = compile_service(svc, context(svc, *others, **kwargs))
    assert_valid(objects)
    return objects


def test_minimal_service_gets_account_deployment_and_service() -> None:
    objects = compile_doc(service())
    assert [o["kind"] for o in objects] == [
        "ServiceAccount",
        "Deployment",
        "Service",
        "CiliumNetworkPolicy",
        "AuthorizationPolicy",
        "PeerAuthentication",
    ]
    account = find(objects, "ServiceAccount")
    assert account["automountServiceAccountToken"] is False
    deployment = find(objects, "Deployment")
    assert deployment["spec"]["replicas"] == 1
    assert deployment["spec"]["selector"]["matchLabels"] == {
        "app.kubernetes.io/name": "api",
        SERVICE_LABEL: "api",
    }
    svc = find(objects, "Service")
    assert svc["spec"]["ports"] == [
        {"name": "http", "port": 8080, "targetPort": 8080, "protocol": "TCP"}
    ]
    for obj in objects:
        assert obj["metadata"]["namespace"] == "shop"
        assert obj["metadata"]["labels"][MANAGED_BY] == "lattice"
        assert obj["metadata"]["labels"][SERVICE_LABEL] == "api"


def test_restricted_security_by_default() -> None:
    objects = compile_doc(service())
    assert container(objects)["securityContext"] == {
        "allowPrivilegeEscalation": False,
        "capabilities": {"drop": ["ALL"]},
        "privileged": False,
        "readOnlyRootFilesystem": True,
        "runAsNonRoot": True,
    }
    assert pod(objects)["securityContext"]["seccompProfile"] == {"type": "RuntimeDefault"}
    assert pod(objects)["automountServiceAccountToken"] is False


OVERRIDES = [
    pytest.param({"privileged": True}, "privileged", id="privileged"),
    pytest.param({"capabilities": ["NET_ADMIN"]}, "capability:NET_ADMIN", id="capability"),
    pytest.param({"runAsUser": 0}, "runAsRoot", id="root user"),
    pytest.param({"seccompProfile": "Unconfined"}, "seccomp:Unconfined", id="seccomp"),
    pytest.param({"apparmorProfile": "Unconfined"}, "apparmor:Unconfined", id="apparmor"),
    pytest.param({"dropCapabilities": ["NET_RAW"]}, "capabilities:keep", id="not dropping ALL"),
]


@pytest.mark.parametrize(("security", "override"), OVERRIDES)
def test_override_without_permit_fails_naming_the_permit(
    security: dict[str, Any], override: str
) -> None:
    svc = load_service(changed(service(), f"{MAIN}.security", security))
    with pytest.raises(PolicyDenied) as caught:
        compile_service(svc, context(svc))
    assert str(caught.value) == (
        f"service shop/api may not use security override '{override}': no permit. Add: "
        'permit(principal == Lattice::Service::"shop/api", action == '
        'Lattice::Action::"OverrideSecurity", resource == '
        f'Lattice::SecurityOverride::"{override}");'
    )


@pytest.mark.parametrize(("security", "override"), OVERRIDES)
def test_permitted_override_relaxes_the_container(security: dict[str, Any], override: str) -> None:
    permit = (
        'permit(principal == Lattice::Service::"shop/api", action == '
        'Lattice::Action::"OverrideSecurity", resource == '
        f'Lattice::SecurityOverride::"{override}");'
    )
    doc = changed(service(), f"{MAIN}.security", security)
    context_ = {"policies": (permit,)}
    objects = compile_doc(doc, **context_)
    sec = container(objects)["securityContext"]
    if override == "privileged":
        assert sec["privileged"] is True
    elif override == "capability:NET_ADMIN":
        assert sec["capabilities"] == {"drop": ["ALL"], "add": ["NET_ADMIN"]}
    elif override == "runAsRoot":
        assert sec["runAsUser"] == 0 and sec["runAsNonRoot"] is False
        assert pod(objects)["securityContext"]["runAsNonRoot"] is False
    elif override == "capabilities:keep":
        assert sec["capabilities"] == {"drop": ["NET_RAW"]}
    else:
        kind = override.split(":")[0]
        key = "seccompProfile" if kind == "seccomp" else "appArmorProfile"
        assert sec[key] == {"type": "Unconfined"}


def test_pod_level_overrides_and_unsafe_sysctls_are_all_reported() -> None:
    doc = service(
        hostNetwork=True, sysctls={"net.core.somaxconn": "1024", "net.ipv4.tcp_syncookies": "1"}
    )
    svc = load_service(doc)
    with pytest.raises(PolicyDenied) as caught:
        compile_service(svc, context(svc))
    wanted = [line.split("'")[1] for line in str(caught.value).splitlines()]
    assert wanted == ["hostNetwork", "sysctl:net.core.somaxconn"]


def test_variables_plain_in_config_map_secrets_by_reference() -> None:
    doc = service(resources={"db": SECRET})
    doc = changed(
        doc,
        f"{MAIN}.variables",
        {
            "NAME": "${metadata.name}",
            "PASSWORD": "${resources.db.password}",
            "URL": "postgres://${resources.db.user}:${secret.db.password}@db:5432/x",
        },
    )
    objects = compile_doc(doc)
    env = {e["name"]: e["valueFrom"] for e in container(objects)["env"]}
    assert env["NAME"] == {"configMapKeyRef": {"name": "api-main-env", "key": "NAME"}}
    assert env["PASSWORD"] == {"secretKeyRef": {"name": "api-db", "key": "password"}}
    assert env["URL"] == {"secretKeyRef": {"name": "api-main-secret-env", "key": "URL"}}
    assert find(objects, "ConfigMap", "api-main-env")["data"] == {"NAME": "api"}
    templated = find(objects, "ExternalSecret", "api-main-secret-env")["spec"]
    assert templated["target"]["template"]["data"] == {
        "URL": 'postgres://{{ index . "db.user" }}:{{ index . "db.password" }}@db:5432/x'
    }
    assert templated["data"] == [
        {"secretKey": "db.password", "remoteRef": {"key": "shop/db", "property": "password"}},
        {"secretKey": "db.user", "remoteRef": {"key": "shop/db", "property": "user"}},
    ]
    store = find(objects, "ExternalSecret", "api-db")["spec"]
    assert store["secretStoreRef"] == {"name": "vault", "kind": "ClusterSecretStore"}
    assert [d["secretKey"] for d in store["data"]] == ["user", "password"]


def test_secret_without_keys_extracts_everything() -> None:
    secret = {
        "type": "secret",
        "id": "shop/all",
        "params": {"provider": "vault", "secretType": "kubernetes.io/dockerconfigjson"},
    }
    objects = compile_doc(service(resources={"reg": secret}, imagePullSecrets=["reg"]))
    spec = find(objects, "ExternalSecret", "api-reg")["spec"]
    assert spec["dataFrom"] == [{"extract": {"key": "shop/all"}}]
    assert spec["target"]["template"]["type"] == "kubernetes.io/dockerconfigjson"
    assert pod(objects)["imagePullSecrets"] == [{"name": "api-reg"}]


def test_secret_path_without_permit_is_denied() -> None:
    svc = load_service(service(resources={"db": SECRET}))
    with pytest.raises(PolicyDenied, match="may not read secret 'vault:shop/db': no permit"):
        compile_service(svc, context(svc, policies=()))


def test_files_modes_binary_no_expand_and_reverse_expand() -> None:
    raw = bytes(range(256))
    files = {
        "/etc/app/conf.ini": {"content": "name=${metadata.name}\n", "mode": "0640"},
        "/etc/app/raw.bin": {"binaryContent": base64.b64encode(raw).decode()},
        "/etc/app/verbatim": {"content": "${not.a.placeholder}", "noExpand": True},
        "/bin/start.sh": {
            "content": "echo ${HOME} $${metadata.name}",
            "reverseExpand": True,
            "mode": "0755",
        },
    }
    objects = compile_doc(changed(service(), f"{MAIN}.files", files))
    config = find(objects, "ConfigMap", "api-main-files")
    assert config["data"] == {
        "bin_start.sh": "echo ${HOME} api",
        "etc_app_conf.ini": "name=api\n",
        "etc_app_verbatim": "${not.a.placeholder}",
    }
    assert base64.b64decode(config["binaryData"]["etc_app_raw.bin"]) == raw
    (volume,) = [v for v in pod(objects)["volumes"] if v["name"] == "files-main"]
    items = {i["key"]: i["mode"] for i in volume["projected"]["sources"][0]["configMap"]["items"]}
    assert items == {
        "bin_start.sh": 0o755,
        "etc_app_conf.ini": 0o640,
        "etc_app_raw.bin": 0o644,
        "etc_app_verbatim": 0o644,
    }
    mounts = {m["mountPath"]: m["subPath"] for m in container(objects)["volumeMounts"]}
    assert mounts["/etc/app/conf.ini"] == "etc_app_conf.ini"


def test_file_with_secret_is_rendered_by_external_secret() -> None:
    doc = changed(
        service(resources={"db": SECRET}),
        f"{MAIN}.files",
        {"/etc/db.conf": {"content": "password={{x}} ${resources.db.password}"}},
    )
    objects = compile_doc(doc)
    data = find(objects, "ExternalSecret", "api-main-secret-files")["spec"]["target"]["template"][
        "data"
    ]
    assert data == {"etc_db.conf": 'password={{ "{{" }}x}} {{ index . "db.password" }}'}
    assert all(o["kind"] != "ConfigMap" for o in objects)


def test_unknown_reference_names_field_path() -> None:
    svc = load_service(service())
    bad = svc.model_copy(deep=True)
    object.__setattr__(bad.spec.workload.containers["main"], "args", ["${resources.nope.host}"])
    with pytest.raises(CompileError) as caught:
        compile_service(bad, context(bad))
    assert str(caught.value) == (
        "service shop/api spec.workload.containers.main.args[0]: unknown resource 'nope' in "
        "'${resources.nope.host}'"
    )


def test_secret_in_args_is_refused() -> None:
    doc = changed(service(resources={"db": SECRET}), f"{MAIN}.args", ["${resources.db.password}"])
    svc = load_service(doc)
    with pytest.raises(CompileError, match="secrets cannot be used in command or args"):
        compile_service(svc, context(svc))


def test_service_urls_are_cross_namespace_aware() -> None:
    callee = service(
        resources={"api": {"type": "service", "direction": "inbound", "namespace": "web"}}
    )
    callee["metadata"] = {"name": "backend", "namespace": "core"}
    caller = changed(
        service(resources={"backend": {"type": "service", "namespace": "core"}}),
        f"{MAIN}.variables",
        {"URL": "${resources.backend.url}", "HOST": "${resources.backend.host}"},
    )
    caller["metadata"] = {"name": "api", "namespace": "web"}
    other = load_service(callee)
    objects = compile_doc(caller, other)
    data = find(objects, "ConfigMap", "api-main-env")["data"]
    assert data == {
        "HOST": "backend.core.svc.cluster.local",
        "URL": "http://backend.core.svc.cluster.local:8080",
    }


def test_init_sidecar_runs_as_init_container() -> None:
    objects = compile_doc(
        service(
            sidecars={
                "migrate": {"image": "ghcr.io/example/migrate:1", "init": True},
                "proxy": {"image": "envoyproxy/envoy:v1.31.0"},
            }
        )
    )
    assert [c["name"] for c in pod(objects)["initContainers"]] == ["migrate"]
    assert [c["name"] for c in pod(objects)["containers"]] == ["main", "proxy"]


def test_image_dot_comes_from_the_context() -> None:
    svc = load_service(changed(service(), f"{MAIN}.image", "."))
    with pytest.raises(CompileError, match=r'image "\." takes the image'):
        compile_service(svc, context(svc))
    ctx = context(svc)
    objects = compile_service(
        svc, type(ctx)(**{**ctx.__dict__, "images": {"main": "ghcr.io/x/y:2"}})
    )
    assert container(objects)["image"] == "ghcr.io/x/y:2"


def test_pdb_only_with_two_replicas_and_autoscaling_leaves_replicas_to_keda() -> None:
    assert all(o["kind"] != "PodDisruptionBudget" for o in compile_doc(service(replicas=1)))
    objects = compile_doc(service(replicas=2, autoscaling={"max": 5}))
    assert find(objects, "PodDisruptionBudget")["spec"]["maxUnavailable"] == 1
    assert "replicas" not in find(objects, "Deployment")["spec"]


def test_owned_volume_claim_and_empty_dir() -> None:
    doc = service(
        resources={"data": {"type": "volume", "params": {"size": "5Gi", "storageClass": "fast"}}}
    )
    doc = changed(
        doc,
        f"{MAIN}.volumes",
        {"/data": {"source": "${resources.data}", "path": "sub"}, "/tmp": {"medium": "Memory"}},
    )
    objects = compile_doc(doc)
    claim = find(objects, "PersistentVolumeClaim", "api-data")
    assert claim["spec"] == {
        "accessModes": ["ReadWriteOnce"],
        "resources": {"requests": {"storage": "5Gi"}},
        "storageClassName": "fast",
    }
    mounts = container(objects)["volumeMounts"]
    assert {"name": "data", "mountPath": "/data", "subPath": "sub"} in mounts
    assert {"name": "scratch-1", "emptyDir": {"medium": "Memory"}} in pod(objects)["volumes"]


def _owner(consumers: list[str]) -> Any:
    doc = service(
        resources={
            "media": {
                "type": "volume",
                "id": "media",
                "params": {"size": "100Gi", "allowedConsumers": consumers},
            }
        }
    )
    doc["metadata"]["name"] = "library"
    return load_service(doc)


def _consumer() -> dict[str, Any]:
    doc = service(resources={"media": {"type": "volume", "id": "media"}})
    return changed(
        doc, f"{MAIN}.volumes", {"/media": {"source": "${resources.media}", "readOnly": True}}
    )


PERMIT_VOLUMES = 'permit(principal, action == Lattice::Action::"AccessVolume", resource);'


def test_shared_volume_needs_a_cedar_permit_besides_consent() -> None:
    svc = load_service(_consumer())
    with pytest.raises(PolicyDenied, match="may not use volume 'shop/media' owned by shop/library"):
        compile_service(svc, context(svc, _owner(["api"])))


def test_shared_volume_allowed_consumer_gets_affinity_to_owner() -> None:
    objects = compile_doc(_consumer(), _owner(["api"]), policies=(PERMIT_VOLUMES,))
    assert all(o["kind"] != "PersistentVolumeClaim" for o in objects)
    assert {"name": "media", "persistentVolumeClaim": {"claimName": "media"}} in pod(objects)[
        "volumes"
    ]
    terms = pod(objects)["affinity"]["podAffinity"][
        "requiredDuringSchedulingIgnoredDuringExecution"
    ]
    assert terms[0]["labelSelector"]["matchLabels"][SERVICE_LABEL] == "library"


def test_shared_volume_without_owner_consent_is_denied() -> None:
    svc = load_service(_consumer())
    with pytest.raises(PolicyDenied, match="the owner library must list api in allowedConsumers"):
        compile_service(svc, context(svc, _owner(["other"]), policies=(PERMIT_VOLUMES,)))


def test_shared_volume_without_known_owner_is_an_error() -> None:
    svc = load_service(_consumer())
    with pytest.raises(CompileError, match="shared volume 'media' has no known owner"):
        compile_service(svc, context(svc))


def test_gpu_limits_hami_fractions_node_selector_and_shm() -> None:
    gpu = {
        "type": "gpu",
        "params": {"count": 1, "memory": "8Gi", "compute": 50, "model": "NVIDIA-A10G"},
    }
    objects = compile_doc(service(resources={"gpu": gpu}))
    limits = container(objects)["resources"]["limits"]
    assert limits == {
        "nvidia.com/gpu": "1",
        "nvidia.com/gpumem": "8192",
        "nvidia.com/gpucores": "50",
    }
    spec = pod(objects)
    assert spec["nodeSelector"] == {"nvidia.com/gpu.product": "NVIDIA-A10G"}
    assert spec["tolerations"] == [
        {"key": "nvidia.com/gpu", "operator": "Exists", "effect": "NoSchedule"}
    ]
    assert {"name": "dshm", "mountPath": "/dev/shm"} in container(objects)["volumeMounts"]


def _hash(doc: dict[str, Any]) -> str:
    deployment = find(compile_doc(doc), "Deployment")
    value: str = deployment["spec"]["template"]["metadata"]["annotations"][
        "lattice.dev/config-hash"
    ]
    return value


def test_config_hash_follows_what_the_pod_reads() -> None:
    base = changed(service(resources={"db": SECRET}), f"{MAIN}.variables", {"A": "1"})
    assert _hash(base) == _hash(base)
    assert _hash(changed(base, "spec.replicas", 3)) == _hash(base)
    assert _hash(changed(base, f"{MAIN}.variables", {"A": "2"})) != _hash(base)
    assert _hash(changed(base, f"{MAIN}.files", {"/a": {"content": "x"}})) != _hash(base)
    with_ref = changed(base, f"{MAIN}.variables", {"A": "1", "B": "x${resources.db.user}"})
    moved = changed(base, f"{MAIN}.variables", {"A": "1", "B": "x${resources.db.password}"})
    assert _hash(with_ref) != _hash(moved)


def test_compiling_twice_gives_identical_output() -> None:
    doc = changed(
        service(resources={"db": SECRET}, replicas=3),
        f"{MAIN}.variables",
        {"X": "${resources.db.user}!"},
    )
    assert compile_doc(doc) == compile_doc(doc)


def test_values_the_compiler_cannot_see_go_to_a_secret_not_a_config_map() -> None:
    doc = changed(service(), f"{MAIN}.variables", {"TOKEN": "pre-opaque-0-x", "MODE": "fast"})
    svc = load_service(doc)
    ctx = context(svc)
    objects = compile_service(svc, type(ctx)(**{**ctx.__dict__, "opaque_marker": "opaque-"}))
    assert_valid(objects)
    holder = find(objects, "Secret", "api-main-input-env")
    assert holder["stringData"] == {"TOKEN": "pre-opaque-0-x"}
    assert find(objects, "ConfigMap", "api-main-env")["data"] == {"MODE": "fast"}
    env = {e["name"]: e["valueFrom"] for e in container(objects)["env"]}
    assert env["TOKEN"] == {"secretKeyRef": {"name": "api-main-input-env", "key": "TOKEN"}}
