"""The catalogue of Lattice kinds: kind name to model class, in one place.

The loader, the CRD generator and the CLI all read this table; a new kind is added here.
"""

from __future__ import annotations

from typing import get_args

from lattice_pulumi.spec.backup import LatticeBackupPolicy
from lattice_pulumi.spec.cluster import LatticeCluster
from lattice_pulumi.spec.external import LatticeExternalService
from lattice_pulumi.spec.meta import Resource
from lattice_pulumi.spec.policy import CedarPolicy
from lattice_pulumi.spec.providers import CloudProvider, SecretProvider
from lattice_pulumi.spec.service import LatticeService

__all__ = ["KINDS", "SCORE_API_VERSION", "kind_names"]

SCORE_API_VERSION = "score.dev/v1b1"

_MODELS: tuple[type[Resource], ...] = (
    LatticeService,
    LatticeExternalService,
    LatticeCluster,
    CloudProvider,
    SecretProvider,
    CedarPolicy,
    LatticeBackupPolicy,
)
KINDS: dict[str, type[Resource]] = {
    get_args(model.model_fields["kind"].annotation)[0]: model for model in _MODELS
}


def kind_names() -> list[str]:
    return sorted(KINDS)
