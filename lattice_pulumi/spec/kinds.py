"""The catalogue of Lattice kinds: kind name to model class, in one place.

The loader, the CRD generator and the CLI all read this table; a new kind is added here.
"""

from __future__ import annotations

from lattice_pulumi.spec.external import LatticeExternalService
from lattice_pulumi.spec.meta import Resource
from lattice_pulumi.spec.service import LatticeService

__all__ = ["KINDS", "SCORE_API_VERSION", "kind_names"]

SCORE_API_VERSION = "score.dev/v1b1"

KINDS: dict[str, type[Resource]] = {
    cls.model_fields["kind"].annotation.__args__[0]: cls  # type: ignore[union-attr]
    for cls in (
        LatticeService,
        LatticeExternalService,
    )
}


def kind_names() -> list[str]:
    return sorted(KINDS)
