"""What ``compile_cluster`` knows besides the LatticeCluster and its CloudProvider: the parent.

A child cluster fetches its Lattice bootstrap bundle from its parent once its first control
plane node is up. The compiler needs the parent's bootstrap endpoint, the parent's CA bundle
(public, pinned by the node) and a *reference* to the one-time bootstrap token: the token
itself never appears in generated objects. It lives in the Secret
``<cluster>-bootstrap-token`` (key ``token``) in ``capi-<cluster>``, which the parent's
operator writes when it mints the token; the bootstrap provider copies it onto the node at
boot (``files[].contentFrom.secret``). A context without a parent (a root cluster, or a
preview with ``lattice render``) compiles without the bootstrap step.
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["DEFAULT_TOKEN_KEY", "ClusterCompileContext", "bootstrap_token_secret"]

DEFAULT_TOKEN_KEY = "token"


def bootstrap_token_secret(cluster_name: str) -> str:
    """The Secret holding a child's one-time bootstrap token, by convention."""
    return f"{cluster_name}-bootstrap-token"


@dataclass(frozen=True)
class ClusterCompileContext:
    """The parent a new cluster reports to; all ``None`` for a cluster without a parent."""

    bootstrap_endpoint: str | None = None
    """Base URL of the parent's bootstrap server, such as ``https://cell.example.com:8443``."""
    parent_ca_pem: str | None = None
    """PEM CA bundle the node pins when it calls ``bootstrap_endpoint`` (no private key)."""
    token_secret: str | None = None
    """Secret in ``capi-<cluster>`` with the token; ``<cluster>-bootstrap-token`` if unset."""
    token_key: str = DEFAULT_TOKEN_KEY

    @property
    def has_parent(self) -> bool:
        return self.bootstrap_endpoint is not None

    def token_secret_for(self, cluster_name: str) -> str:
        return self.token_secret or bootstrap_token_secret(cluster_name)
