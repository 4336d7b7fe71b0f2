"""Fixtures for component tests: the bundled web application and its compile context."""

from __future__ import annotations

import asyncio

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


@pytest.fixture(autouse=True)
def event_loop_for_mocks() -> None:
    """A current event loop for ``pulumi.runtime.test``, which asks for one.

    Tests that ran ``asyncio.run`` before (the CLI's fleet and pivot commands) leave the
    thread with no current loop, and the mocks would fail with "no current event loop".
    The loop stays current, as the thread's default loop would.
    """
    try:
        asyncio.get_event_loop_policy().get_event_loop()
    except RuntimeError:
        asyncio.set_event_loop(asyncio.new_event_loop())
