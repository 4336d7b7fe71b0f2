"""The Online Boutique cart with its provisioned redis is accepted by a real API server.

Every object ``compile_service`` gives for ``examples/boutique`` (the cart, the redis
StatefulSet/Service/ServiceAccount, the ExternalSecret with its ESO Password generator, the
SecretStore reader and RBAC, and both sides' mesh policies) passes a server-side dry-run
apply. Third-party CRDs come from the shared schemas; the ESO ``Password`` generator has none
there, so the harness builds its CRD from a schema written from the ESO documentation.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from harness.crds import install_crds, shared_crd
from harness.kube import KubeClient

from lattice_pulumi.compile.context import CompileContext
from lattice_pulumi.compile.service import compile_service
from lattice_pulumi.spec import loader
from lattice_pulumi.spec.provisioners import builtin_provisioners
from lattice_pulumi.spec.service import LatticeService
from tests.conftest import EXAMPLES

pytestmark = pytest.mark.integration

def _boutique(namespace: str) -> list[dict[str, Any]]:
    resources = [
        r.model_copy(update={"metadata": r.metadata.model_copy(update={"namespace": namespace})})
        for r in loader.load(EXAMPLES / "boutique")
        if isinstance(r, LatticeService)
    ]
    context = CompileContext.of(list(resources), provisioners=builtin_provisioners())
    return [obj for r in resources for obj in compile_service(r, context)]


def _crds(objects: list[dict[str, Any]], schemas: Path) -> list[dict[str, Any]]:
    """Shared-schema CRDs of the custom kinds (the Password generator's from the harness's
    written schema: the catalogue has none)."""
    kinds = sorted({(o["apiVersion"].rpartition("/")[0], o["kind"]) for o in objects})
    return [
        shared_crd(group, kind, schemas)
        for group, kind in kinds
        if "." in group and group != "rbac.authorization.k8s.io"
    ]


def test_boutique_cart_and_its_redis_pass_a_server_side_dry_run(
    kube: KubeClient, crd_schemas: Path, namespace: str
) -> None:
    objects = _boutique(namespace)
    kinds = {o["kind"] for o in objects}
    assert {"StatefulSet", "Password", "ExternalSecret", "SecretStore"} <= kinds
    install_crds(kube, _crds(objects, crd_schemas))
    problems = []
    for obj in objects:
        try:
            kube.apply(obj, dry_run=True)
        except Exception as exc:  # collect every refusal, not only the first
            problems.append(f"{obj['kind']} {obj['metadata']['name']}: {exc}")
    assert problems == []
