"""Pulumi Inputs in a spec: Output images, URLs wired between services, secrets kept secret."""

from __future__ import annotations

from typing import Any

import pulumi
import pytest

from lattice_pulumi.compile.service.workload import CONFIG_HASH
from lattice_pulumi.components import LatticeService
from lattice_pulumi.errors import CompileError, SpecErrors
from tests.builders import service
from tests.components.harness import RecordingMonitor, Registration, run_program


def _spec(name: str, image: Any = "ghcr.io/example/app:1.0", **variables: Any) -> dict[str, Any]:
    doc = service()
    doc["metadata"] = {"name": name, "namespace": "shop"}
    doc["spec"]["containers"]["main"] = {"image": image, "variables": variables}
    return doc


def _container(monitor: RecordingMonitor, component: str) -> dict[str, Any]:
    deployment = monitor.find("kubernetes:apps/v1:Deployment", f"{component}-{component}")
    containers: list[dict[str, Any]] = deployment.inputs["spec"]["template"]["spec"]["containers"]
    return containers[0]


def _env_config(monitor: RecordingMonitor, component: str) -> Registration:
    return monitor.find("kubernetes:core/v1:ConfigMap", f"{component}-{component}-main-env")


def _input_secret(monitor: RecordingMonitor, component: str) -> Registration:
    """Variables holding Outputs: the compiler cannot see them, so they go to a Secret."""
    return monitor.find("kubernetes:core/v1:Secret", f"{component}-{component}-main-input-env")


def _config_hash(monitor: RecordingMonitor, component: str) -> str:
    deployment = monitor.find("kubernetes:apps/v1:Deployment", f"{component}-{component}")
    hashed: str = deployment.inputs["spec"]["template"]["metadata"]["annotations"][CONFIG_HASH]
    return hashed


def test_output_image_reaches_the_deployment() -> None:
    def program() -> Any:
        build = pulumi.Output.from_input("registry.local/app").apply(lambda r: f"{r}:sha-1234")
        return LatticeService("app", _spec("app", image=build), allow_default_provider=True).urn

    monitor = run_program(program)
    assert _container(monitor, "app")["image"] == "registry.local/app:sha-1234"


def test_url_of_one_service_wires_into_another() -> None:
    def program() -> Any:
        api = LatticeService("api", _spec("api"), allow_default_provider=True)
        web = LatticeService(
            "web",
            _spec("web", API_URL=api.url, HEALTH=pulumi.Output.concat(api.url, "/health")),
            allow_default_provider=True,
        )
        return web.urn

    monitor = run_program(program)
    data = _input_secret(monitor, "web").inputs["stringData"]
    assert data["API_URL"] == "http://api.shop.svc.cluster.local:8080"
    assert data["HEALTH"] == "http://api.shop.svc.cluster.local:8080/health"


def test_output_embedded_in_text_is_concatenated() -> None:
    def program() -> Any:
        host = pulumi.Output.from_input("db.internal")
        spec = _spec("app", DSN=host.apply(lambda h: h), PREFIXED="x")
        spec["spec"]["containers"]["main"]["args"] = ["--db", host]
        return LatticeService("app", spec, allow_default_provider=True).urn

    monitor = run_program(program)
    assert _input_secret(monitor, "app").inputs["stringData"]["DSN"] == "db.internal"
    assert _env_config(monitor, "app").inputs["data"] == {"PREFIXED": "x"}
    assert _container(monitor, "app")["args"] == ["--db", "db.internal"]


def test_config_hash_follows_output_values() -> None:
    hashes = []
    for value in ("one", "two"):

        def program(value: str = value) -> Any:
            spec = _spec("app", SETTING=pulumi.Output.from_input(value))
            return LatticeService("app", spec, allow_default_provider=True).urn

        hashes.append(_config_hash(run_program(program), "app"))
    assert hashes[0] != hashes[1]


def test_secret_input_keeps_properties_secret() -> None:
    found: dict[str, Any] = {}

    def program() -> Any:
        spec = _spec("app", PASSWORD=pulumi.Output.secret("hunter2"), PLAIN="visible")
        component = LatticeService("app", spec, allow_default_provider=True)
        holder = next(r for r in component.resources if r.__class__.__name__ == "Secret")
        secret = pulumi.Output.from_input(holder.string_data.is_secret())  # type: ignore[attr-defined]
        return secret.apply(lambda s: found.setdefault("output_secret", s))

    monitor = run_program(program)
    holder = _input_secret(monitor, "app")
    assert holder.inputs["stringData"] == {"PASSWORD": "hunter2"}
    assert "stringData" in holder.secret_properties
    assert "metadata" not in holder.secret_properties
    assert found["output_secret"] is True
    assert _env_config(monitor, "app").inputs["data"] == {"PLAIN": "visible"}
    account = monitor.find("kubernetes:core/v1:ServiceAccount", "app-app")
    assert not account.secret_properties


def test_plain_outputs_also_travel_in_the_input_secret() -> None:
    def program() -> Any:
        spec = _spec("app", SETTING=pulumi.Output.from_input("x"))
        return LatticeService("app", spec, allow_default_provider=True).urn

    monitor = run_program(program)
    assert _input_secret(monitor, "app").inputs["stringData"] == {"SETTING": "x"}
    assert "ConfigMap" not in {r.type.rsplit(":", 1)[-1] for r in monitor.registrations}


def test_output_in_a_number_field_is_reported_with_its_path() -> None:
    def program() -> Any:
        spec = _spec("app")
        spec["spec"]["replicas"] = pulumi.Output.from_input(3)
        return LatticeService("app", spec, allow_default_provider=True).urn

    with pytest.raises(SpecErrors) as caught:
        run_program(program)
    assert str(caught.value.errors[0]).endswith(
        "spec.replicas: expected a valid integer, unable to parse string as an integer, "
        "got '<pulumi Output>'"
    )


def test_output_as_a_name_is_refused() -> None:
    def program() -> Any:
        spec = _spec("app")
        spec["metadata"]["namespace"] = pulumi.Output.from_input("shop")
        return LatticeService("app", spec, allow_default_provider=True).urn

    with pytest.raises(CompileError, match="names and namespaces must be plain values"):
        run_program(program)
