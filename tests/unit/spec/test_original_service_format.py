"""The seed README's LatticeService loads as written; its ``replicas: {min, max}`` range
becomes ``replicas`` plus ``autoscaling`` (``spec.service_aliases``), errors at the author's
field."""

from __future__ import annotations

import pytest
from typer.testing import CliRunner

from lattice_pulumi.cli.main import app
from lattice_pulumi.compile.context import CompileContext
from lattice_pulumi.compile.service import compile_service
from lattice_pulumi.policy import CedarAuthorizer
from lattice_pulumi.policy.sources import sources_in
from lattice_pulumi.spec.loader import load, load_text
from lattice_pulumi.spec.service import LatticeService
from tests.conftest import ROOT

SEED = ROOT / "tests" / "fixtures" / "services" / "seed-api-gateway.yaml"


def _doc(replicas: str, extra: str = "") -> str:
    return (
        "apiVersion: lattice.dev/v1alpha1\n"
        "kind: LatticeService\n"
        "metadata:\n"
        "  name: api\n"
        "spec:\n"
        "  containers:\n"
        "    main:\n"
        "      image: myorg/api:v2.1.0\n"
        f"{replicas}{extra}"
    )


def test_lattice_validate_accepts_the_seed_service_verbatim() -> None:
    result = CliRunner().invoke(app, ["validate", "-f", str(SEED)])
    assert result.exit_code == 0, result.output


def test_the_seed_replica_range_is_two_autoscaled_to_ten() -> None:
    [service] = [r for r in load(SEED) if isinstance(r, LatticeService)]
    assert service.spec.replicas == 2
    assert service.spec.autoscaling is not None
    assert (service.spec.autoscaling.min, service.spec.autoscaling.max) == (2, 10)


PERMIT = """\
apiVersion: lattice.dev/v1alpha1
kind: CedarPolicy
metadata:
  name: seed-secrets
  namespace: platform
spec:
  policies: |
    permit (
      principal == Lattice::Service::"platform/api-gateway",
      action == Lattice::Action::"AccessSecret",
      resource == Lattice::SecretPath::"vault-prod:database/prod/creds"
    );
"""


def test_the_seed_service_compiles_to_a_scaled_deployment() -> None:
    [service] = [r for r in load(SEED) if isinstance(r, LatticeService)]
    authorizer = CedarAuthorizer()
    authorizer.reload(sources_in(load_text(PERMIT).resources))
    peers = load(ROOT / "examples" / "services" / "auth-service.yaml")
    context = CompileContext.of([service, *peers], authorizer=authorizer)
    kinds = {o["kind"]: o for o in compile_service(service, context)}
    assert "replicas" not in kinds["Deployment"]["spec"]  # the autoscaler owns the count
    scaler = kinds["ScaledObject"]["spec"]
    assert (scaler["minReplicaCount"], scaler["maxReplicaCount"]) == (2, 10)


@pytest.mark.parametrize(
    ("replicas", "expected"),
    [
        pytest.param("  replicas:\n    min: 3\n", 3, id="min alone is a fixed count"),
        pytest.param("  replicas: {}\n", 1, id="an empty range is the default count"),
        pytest.param("  replicas: 4\n", 4, id="a plain count stays a count"),
    ],
)
def test_a_range_without_max_is_a_fixed_count(replicas: str, expected: int) -> None:
    result = load_text(_doc(replicas))
    assert result.errors == []
    [service] = result.resources
    assert isinstance(service, LatticeService)
    assert (service.spec.replicas, service.spec.autoscaling) == (expected, None)


@pytest.mark.parametrize(
    ("replicas", "extra", "expected"),
    [
        pytest.param("  replicas:\n    min: many\n", "",
                     ["<input>:10:5 spec.replicas.min: expected a valid integer, unable to parse "
                      "string as an integer, got 'many'"],
                     id="a bad min is named as written"),
        pytest.param("  replicas:\n    min: 2\n    max: 1\n", "",
                     ["<input>:9:3 spec.replicas: min (2) is greater than max (1)"],
                     id="a range upside down"),
        pytest.param("  replicas:\n    min: 2\n    mx: 5\n", "",
                     ["<input>:11:5 spec.replicas.mx: unknown field 'mx'; a replica range "
                      "has min and max"],
                     id="a misspelt bound"),
        pytest.param("  replicas:\n    max: 5\n", "  autoscaling:\n    max: 8\n",
                     ["<input>:10:5 spec.replicas.max: replicas.max and autoscaling both set "
                      "the range; keep one of them"],
                     id="range given twice"),
    ],
)  # fmt: skip
def test_bad_replica_ranges_name_the_field_as_written(
    replicas: str, extra: str, expected: list[str]
) -> None:
    assert [str(e) for e in load_text(_doc(replicas, extra)).errors] == expected
