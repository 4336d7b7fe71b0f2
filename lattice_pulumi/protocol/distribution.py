"""What cell and agent agree on when a parent distributes objects to its children.

A parent's cell hands CedarPolicy, CloudProvider and SecretProvider objects down each child's
session as ``SyncResources`` (one command per kind, JSON, the *full* set meant for that child);
the child's agent applies them and prunes the distributed objects of that kind that are not
in the set. The markers below travel on every distributed object:

- label :data:`DISTRIBUTED_BY_LABEL` = the cell that sent it (the child's parent). Only
  objects with this label are ever updated or deleted by the agent; an object without it is
  local and is never touched, even when it has the name of a distributed one (a conflict).
- annotations :data:`ORIGIN_ANNOTATION`, :data:`SOURCE_UID_ANNOTATION` and
  :data:`SOURCE_GENERATION_ANNOTATION`: the cluster where the object was written and its uid
  and generation there. They are kept unchanged on every further hop (prod hands what it
  received from the root on to us-east with the root's markers).
- annotation :data:`DIGEST_ANNOTATION`, set by the agent: a digest of what it applied, so an
  unchanged object is not written again.

Selection, on the source object (checked by each cell for each direct child):
:data:`OPT_OUT_LABEL` ``"false"`` keeps an object home; :data:`SELECTOR_ANNOTATION` holds a
Kubernetes label selector the child's labels (as its agent declared them) must match.
"""

from __future__ import annotations

__all__ = [
    "API_VERSION",
    "DIGEST_ANNOTATION",
    "DISTRIBUTED_BY_LABEL",
    "DISTRIBUTED_KINDS",
    "FIELD_MANAGER",
    "MARKER_ANNOTATIONS",
    "OPT_OUT_LABEL",
    "ORIGIN_ANNOTATION",
    "SELECTOR_ANNOTATION",
    "SOURCE_GENERATION_ANNOTATION",
    "SOURCE_UID_ANNOTATION",
]

API_VERSION = "lattice.dev/v1alpha1"
# The kinds a cell distributes, in the order it sends them.
DISTRIBUTED_KINDS = ("CloudProvider", "SecretProvider", "CedarPolicy")

DISTRIBUTED_BY_LABEL = "lattice.dev/distributed-by"
ORIGIN_ANNOTATION = "lattice.dev/origin-cluster"
SOURCE_UID_ANNOTATION = "lattice.dev/source-uid"
SOURCE_GENERATION_ANNOTATION = "lattice.dev/source-generation"
DIGEST_ANNOTATION = "lattice.dev/distribution-digest"
MARKER_ANNOTATIONS = (
    ORIGIN_ANNOTATION,
    SOURCE_UID_ANNOTATION,
    SOURCE_GENERATION_ANNOTATION,
    DIGEST_ANNOTATION,
)

OPT_OUT_LABEL = "lattice.dev/distribute"
SELECTOR_ANNOTATION = "lattice.dev/distribute-to"

# The agent's field manager for distributed objects (server-side apply).
FIELD_MANAGER = "lattice-agent-distribution"
