"""lattice-pulumi: self-managing Kubernetes fleets with zero-trust networking, on Pulumi."""

__all__ = ["__version__"]

__version__ = "0.1.0"
