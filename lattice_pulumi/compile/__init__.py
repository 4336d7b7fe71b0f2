"""Pure compilers: validated specs in, plain Kubernetes manifest dicts out (no I/O)."""

__all__: list[str] = []
