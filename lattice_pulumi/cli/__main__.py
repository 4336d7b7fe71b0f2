"""``python -m lattice_pulumi.cli``: the ``lattice`` command without its console script
(the kubeconfig exec plugin written by ``lattice login`` runs it this way)."""

from lattice_pulumi.cli.main import run

__all__: list[str] = []

if __name__ == "__main__":
    run()
