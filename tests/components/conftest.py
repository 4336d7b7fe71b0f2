"""Fixtures for component tests: the bundled web application and its compile context."""

from __future__ import annotations

import pytest

from lattice_pulumi.compile.context import CompileContext
from lattice_pulumi.policy import CedarAuthorizer
from lattice_pulumi.policy.sources import sources_in
from lattice_pulumi.spec import loader
from lattice_pulumi.spec.meta import Resource
from tests.conftest import EXAMPLES


@pytest.fixture(scope="session")
def webapp() -> list[Resource]:
    return loader.load(EXAMPLES / "webapp") + loader.load(EXAMPLES / "policies")


@pytest.fixture(scope="session")
def webapp_context(webapp: list[Resource]) -> CompileContext:
    authorizer = CedarAuthorizer()
    authorizer.reload(sources_in(webapp))
    return CompileContext.of(list(webapp), authorizer=authorizer)
