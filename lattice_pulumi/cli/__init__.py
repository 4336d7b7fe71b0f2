"""The ``lattice`` command line: parses arguments, calls the library, prints with rich."""

__all__: list[str] = []
