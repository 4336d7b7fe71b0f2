"""Fixtures for component tests: the bundled web application and its compile context."""

from __future__ import annotations

import pytest

from lattice_pulumi.compile.context import CompileContext
from lattice_pulumi.policy import CedarAuthorizer
from lattice_pulumi.policy.sources import source_from_policy
from lattice_pulumi.spec import loader
from lattice_pulumi.spec.meta import Resource
from lattice_pulumi.spec.policy import CedarPolicy
from tests.conftest import EXAMPLES


@pytest.fixture(scope="session")
def webapp() -> list[Resource]:
    return loader.load(EXAMPLES / "webapp") + loader.load(EXAMPLES / "policies")


@pytest.fixture(scope="session")
def webapp_context(webapp: list[Resource]) -> CompileContext:
    authorizer = CedarAuthorizer()
    authorizer.reload([source_from_policy(r) for r in webapp if isinstance(r, CedarPolicy)])
    return CompileContext.of(list(webapp), authorizer=authorizer)
