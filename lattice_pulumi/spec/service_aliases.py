"""The original Lattice's spelling of a LatticeService's replica range, rewritten into ours.

The original (and the seed README) writes ``replicas: {min: 2, max: 10}``: ``min`` replicas,
autoscaled up to ``max`` when it is given. Ours keeps ``replicas`` a count and puts the range
in ``autoscaling``. ``LatticeService.normalize`` calls ``normalize_service``; errors keep the
author's paths (``spec.replicas.min``) through ``Normalized.origins``.
"""

from __future__ import annotations

from typing import Any

from lattice_pulumi.errors import SpecError
from lattice_pulumi.spec.aliases import Normalized, Rewrite

__all__ = ["normalize_service"]

_REPLICAS = ("spec", "replicas")
_AUTOSCALING = ("spec", "autoscaling")


def normalize_service(data: Any) -> Normalized:
    """``spec.replicas`` given as ``{min, max}`` becomes ``replicas`` plus ``autoscaling``."""
    rewrite = Rewrite(data)
    given = rewrite.mapping(_REPLICAS)
    if given is None:
        return rewrite.result()
    rewrite.pop(_REPLICAS)
    for key in sorted(set(given) - {"min", "max"}, key=str):
        rewrite.errors.append(
            SpecError(f"unknown field {key!r}; a replica range has min and max", (*_REPLICAS, key))
        )
    if "min" in given:
        rewrite.put(_REPLICAS, given["min"], (*_REPLICAS, "min"))
    if given.get("max") is None:
        return rewrite.result()
    if rewrite.has(_AUTOSCALING):
        rewrite.errors.append(
            SpecError(
                "replicas.max and autoscaling both set the range; keep one of them",
                (*_REPLICAS, "max"),
            )
        )
        return rewrite.result()
    rewrite.put((*_AUTOSCALING, "max"), given["max"], (*_REPLICAS, "max"))
    rewrite.origins[_AUTOSCALING] = _REPLICAS  # the range's own errors (min > max)
    if "min" in given:
        rewrite.put((*_AUTOSCALING, "min"), given["min"], (*_REPLICAS, "min"))
    return rewrite.result()

