"""Typed models of every Lattice kind, YAML loading with precise errors, CRD generation."""

__all__: list[str] = []
