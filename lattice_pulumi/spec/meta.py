"""Kubernetes object envelope shared by every kind: metadata, conditions, status base.

``Resource`` is the generic typed document (``apiVersion``/``kind``/``metadata``/``spec``/
``status``); each kind module subclasses it with its own ``spec`` and ``status`` models and
registers it in ``spec.kinds``.
"""

from __future__ import annotations

from typing import Any, ClassVar, Literal

from pydantic import Field, field_validator

from lattice_pulumi.errors import SpecError
from lattice_pulumi.spec.aliases import Normalized
from lattice_pulumi.spec.base import DnsLabel, DnsSubdomain, SpecModel

__all__ = ["Condition", "ObjectMeta", "Resource", "Status"]

_MAX_LABEL_VALUE = 63


class ObjectMeta(SpecModel):
    """The part of Kubernetes ObjectMeta a spec author writes."""

    name: DnsSubdomain
    namespace: DnsLabel | None = None
    labels: dict[str, str] = Field(default_factory=dict)
    annotations: dict[str, str] = Field(default_factory=dict)

    @field_validator("labels")
    @classmethod
    def _label_values_fit(cls, value: dict[str, str]) -> dict[str, str]:
        for key, text in value.items():
            if len(text) > _MAX_LABEL_VALUE:
                raise ValueError(f"label '{key}' value is longer than 63 characters")
        return value


class Condition(SpecModel):
    """A standard Kubernetes status condition."""

    type: str
    status: Literal["True", "False", "Unknown"]
    reason: str | None = None
    message: str | None = None
    last_transition_time: str | None = None
    observed_generation: int | None = None


class Status(SpecModel):
    """Fields every Lattice status has: a phase, conditions and the generation they reflect."""

    phase: str | None = None
    message: str | None = None
    observed_generation: int | None = None
    conditions: list[Condition] = Field(default_factory=list)


class Resource(SpecModel):
    """A Lattice document. Subclasses narrow ``kind``, ``spec`` and ``status``.

    Class attributes describe the CRD: scope, plural, short names and printer columns
    (``(name, type, jsonPath)``).
    """

    namespaced: ClassVar[bool] = True
    plural: ClassVar[str] = ""
    short_names: ClassVar[tuple[str, ...]] = ()
    printer_columns: ClassVar[tuple[tuple[str, str, str], ...]] = ()

    api_version: Literal["lattice.dev/v1alpha1"] = "lattice.dev/v1alpha1"
    metadata: ObjectMeta

    @property
    def name(self) -> str:
        return self.metadata.name

    @property
    def namespace(self) -> str:
        """The namespace (``default`` when a namespaced document leaves it out)."""
        return self.metadata.namespace or ("default" if self.namespaced else "")

    @classmethod
    def normalize(cls, data: Any) -> Normalized:
        """The canonical form of the author's plain document (other spellings rewritten);
        the loader validates that. Kinds with no other spellings return it unchanged."""
        return Normalized(data)

    def check(self) -> list[SpecError]:
        """Cross-field rules needing precise paths; the loader adds file and line."""
        return []
