"""Golden files: the seed api-gateway and the web application, reviewed once, then kept.

Regenerate after an intended change with ``UPDATE_GOLDEN=1 pytest tests/unit/compile`` and
review the diff like code.
"""

from __future__ import annotations

import os

import pytest

from lattice_pulumi.compile.context import ClusterInfo, CompileContext
from lattice_pulumi.compile.service import compile_service
from lattice_pulumi.policy import CedarAuthorizer
from lattice_pulumi.policy.sources import sources_in
from lattice_pulumi.spec import loader
from lattice_pulumi.spec.service import LatticeService
from lattice_pulumi.spec.yamlout import dump_all
from tests.conftest import EXAMPLES, ROOT
from tests.manifests import assert_valid

GOLDEN = ROOT / "tests" / "golden"
CLUSTER = ClusterInfo(name="production", provider="aws", environment="prod", region="us-west-2",
                      monitoring=True, backups=True)


def _render(folder: str) -> str:
    resources = loader.load(EXAMPLES / folder) + loader.load(EXAMPLES / "policies")
    authorizer = CedarAuthorizer()
    authorizer.reload(sources_in(resources))
    context = CompileContext.of(list(resources), cluster=CLUSTER, authorizer=authorizer)
    objects = []
    for resource in resources:
        if isinstance(resource, LatticeService):
            objects += compile_service(resource, context)
    assert_valid(objects)
    return dump_all(objects)


@pytest.mark.parametrize("folder", ["services", "webapp"])
def test_output_matches_golden_file(folder: str) -> None:
    rendered = _render(folder)
    golden = GOLDEN / f"{folder}.yaml"
    if os.environ.get("UPDATE_GOLDEN"):
        golden.write_text(rendered)
    assert golden.exists(), f"missing {golden}: run with UPDATE_GOLDEN=1 and review it"
    assert rendered == golden.read_text()
