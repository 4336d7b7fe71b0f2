"""Every bundled example loads without errors, and the seed examples say what they should."""

from __future__ import annotations

from lattice_pulumi.spec import loader
from lattice_pulumi.spec.service import LatticeService
from lattice_pulumi.spec.service_resources import SecretResource, ServiceResource, VolumeResource
from tests.conftest import EXAMPLES


def test_every_example_is_valid() -> None:
    result = loader.load_documents(EXAMPLES)
    assert result.errors == []
    assert len(result.resources) >= 8


def _service(name: str) -> LatticeService:
    for resource in loader.load(EXAMPLES):
        if isinstance(resource, LatticeService) and resource.name == name:
            return resource
    raise AssertionError(f"no example service {name}")


def test_seed_api_gateway_declares_the_seed_dependencies() -> None:
    spec = _service("api-gateway").spec
    resources = spec.workload.resources
    assert isinstance(resources["auth-service"], ServiceResource)
    assert resources["auth-service"].direction == "outbound"
    assert isinstance(resources["web-frontend"], ServiceResource)
    assert resources["web-frontend"].direction == "inbound"
    assert isinstance(resources["db-creds"], SecretResource)
    assert isinstance(resources["data"], VolumeResource) and resources["data"].owned
    assert spec.autoscaling is not None
    assert (spec.replicas, spec.autoscaling.min, spec.autoscaling.max) == (2, 2, 10)
    assert spec.ingress is not None and spec.ingress.tls is not None
    assert spec.ingress.tls.mode == "auto"
    assert spec.deploy.strategy == "canary"


def test_score_file_loads_as_a_lattice_service() -> None:
    frontend = _service("web-frontend")
    assert frontend.namespace == "platform"
    assert list(frontend.spec.workload.containers) == ["web"]


def test_webapp_declarations_pair_up() -> None:
    services = {
        r.name: r
        for r in loader.load(EXAMPLES / "webapp")
        if isinstance(r, LatticeService)
    }
    assert sorted(services) == ["api", "frontend", "postgres", "redis", "worker"]
    out = {
        (name, dep)
        for name, svc in services.items()
        for dep, decl in svc.spec.workload.resources.items()
        if isinstance(decl, ServiceResource) and decl.direction in ("outbound", "both")
    }
    inbound = {
        (dep, name)
        for name, svc in services.items()
        for dep, decl in svc.spec.workload.resources.items()
        if isinstance(decl, ServiceResource) and decl.direction in ("inbound", "both")
    }
    assert out == inbound
    assert len(out) == 6
