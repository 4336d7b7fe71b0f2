"""Children's bootstrap bundles, as the enrolment server serves them.

``GET /v1/bootstrap/<cluster>`` (see :mod:`lattice_pulumi.cell.enrolment`) answers the
multi-document YAML of :func:`lattice_pulumi.compile.agent.compile_agent_bundle` to the
holder of a valid, unexpired and *unused* bootstrap token issued for that cluster. The token
is checked but not burnt: the agent burns it when it enrols (``POST /v1/enrol``), so the
node's post-boot script and the agent can use the same token, in that order.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from lattice_pulumi import pki
from lattice_pulumi.cell.config import CellConfig
from lattice_pulumi.cell.errors import CellError
from lattice_pulumi.compile.agent import AgentParent, compile_agent_bundle
from lattice_pulumi.spec import yamlout

if TYPE_CHECKING:
    from lattice_pulumi.cell.enrolment import TokenStore

__all__ = ["BUNDLE_PATH", "AgentBundles", "dump_bundle", "token_cluster"]

BUNDLE_PATH = "/v1/bootstrap/"  # + cluster name; compile.cluster.bootstrap fetches it


class _Checked(Exception):
    """Raised inside ``redeeming`` to leave it without burning the token."""

    def __init__(self, cluster: str) -> None:
        super().__init__(cluster)
        self.cluster = cluster


def token_cluster(tokens: TokenStore, token: str) -> str:
    """The cluster ``token`` was issued for; the token stays unused.

    Same checks as redemption (constant-time hash comparison, under the store's lock):
    :class:`pki.TokenInvalidError` for an unknown, malformed or expired token,
    :class:`pki.TokenReplayedError` for a used one. Leaving the ``redeeming`` block with an
    exception is the store's documented way of not burning the token.
    """
    try:
        with tokens.redeeming(token) as cluster:
            raise _Checked(cluster)
    except _Checked as checked:
        return checked.cluster
    raise CellError("token store swallowed the check")  # a store that suppresses errors


def dump_bundle(objects: list[dict[str, Any]]) -> str:
    """The bundle as YAML that the node's kubectl reads as written (the CA bundle as a
    ``|`` block), keys in the order the compiler wrote them."""
    return yamlout.dump_all(objects, literal_blocks=True)


class AgentBundles:
    """Builds bundles from the cell's config and where its servers actually listen.

    ``grpc_endpoint`` is called per request (``lambda: cell.endpoint`` once the cell has
    bound its port); the CA bundle is read from ``authority`` per request too, so a bundle
    fetched during a CA rotation trusts both CAs.
    """

    def __init__(
        self,
        config: CellConfig,
        authority: pki.CellAuthority,
        grpc_endpoint: Callable[[], str],
    ) -> None:
        self._config = config
        self._authority = authority
        self._grpc_endpoint = grpc_endpoint

    def parent(self, enrol_url: str) -> AgentParent:
        """What the bundle says about this cell (:meth:`CellConfig.agent_parent`)."""
        return self._config.agent_parent(
            grpc_endpoint=self._grpc_endpoint(),
            enrol_url=enrol_url,
            ca_bundle_pem=self._authority.bundle().pem().decode(),
        )

    def render(self, cluster: str, enrol_url: str) -> str:
        """The YAML bundle of ``cluster`` (no token in it); ``CompileError`` if unbuildable."""
        return dump_bundle(compile_agent_bundle(cluster, self.parent(enrol_url)))
