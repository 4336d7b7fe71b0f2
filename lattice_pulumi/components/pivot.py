"""``Pivot``: a Pulumi dynamic resource that moves a cluster's Cluster API objects.

create = move them from the source (management) cluster into the target (usually the new
cluster itself); delete = the reverse pivot, back into the source, so ``pulumi destroy`` can
then tear the cluster down from where it was built; update (a kubeconfig changed: rotated
credentials, a new endpoint) reruns the move, which is idempotent and finishes an
interrupted one; changing the cluster or namespace replaces the resource. The kubeconfigs
are inputs and outputs only as secrets, and reach the engine (``lattice_pulumi.pivot``)
through 0600 files in a private temporary directory removed afterwards.

The provider is pickled by reference: the dynamic-provider host imports this module again,
so it only needs ``lattice_pulumi`` importable there.
"""

import asyncio
import tempfile
from pathlib import Path
from typing import Any

import pulumi
from pulumi.dynamic import CreateResult, DiffResult, Resource, ResourceProvider, UpdateResult

from lattice_pulumi.pivot import MoveOptions
from lattice_pulumi.pivot.session import move_clusters

__all__ = ["KUBECONFIG_KEYS", "Pivot", "PivotProvider", "run_pivot"]

KUBECONFIG_KEYS = ("source_kubeconfig", "target_kubeconfig")
_REPLACING = ("cluster", "namespace")


def run_pivot(source_kubeconfig: str, target_kubeconfig: str, cluster: str, namespace: str) -> int:
    """Move ``namespace/cluster`` between the clusters the two kubeconfig texts reach;
    returns how many objects the plan holds."""
    with tempfile.TemporaryDirectory(prefix="lattice-pivot-") as folder:
        source, target = Path(folder) / "source", Path(folder) / "target"
        for path, text in ((source, source_kubeconfig), (target, target_kubeconfig)):
            path.touch(mode=0o600)
            path.write_text(text)
        options = MoveOptions(cluster=cluster, namespace=namespace or None)
        result = asyncio.run(move_clusters(source, target, options))
    return result.plan.size if result.plan is not None else 0


class PivotProvider(ResourceProvider):
    """The dynamic provider behind :class:`Pivot`."""

    def create(self, props: dict[str, Any]) -> CreateResult:
        moved = run_pivot(
            props["source_kubeconfig"],
            props["target_kubeconfig"],
            props["cluster"],
            props["namespace"],
        )
        return CreateResult(
            id_=f"{props['namespace']}/{props['cluster']}", outs={**props, "moved": moved}
        )

    def diff(self, _id: str, olds: dict[str, Any], news: dict[str, Any]) -> DiffResult:
        replaces = [key for key in _REPLACING if olds.get(key) != news.get(key)]
        changed = replaces + [key for key in KUBECONFIG_KEYS if olds.get(key) != news.get(key)]
        return DiffResult(changes=bool(changed), replaces=replaces, delete_before_replace=True)

    def update(self, _id: str, _olds: dict[str, Any], news: dict[str, Any]) -> UpdateResult:
        moved = run_pivot(
            news["source_kubeconfig"], news["target_kubeconfig"], news["cluster"], news["namespace"]
        )
        return UpdateResult(outs={**news, "moved": moved})

    def delete(self, _id: str, props: dict[str, Any]) -> None:
        # The reverse pivot: the same engine with the ends swapped.
        run_pivot(
            props["target_kubeconfig"],
            props["source_kubeconfig"],
            props["cluster"],
            props["namespace"],
        )


class Pivot(Resource):
    """The Cluster API objects of one cluster, moved from ``source`` to ``target``."""

    cluster: pulumi.Output[str]
    namespace: pulumi.Output[str]
    moved: pulumi.Output[int]
    """How many objects the move planned (those it created or found from an earlier run)."""

    def __init__(
        self,
        name: str,
        *,
        source_kubeconfig: pulumi.Input[str],
        target_kubeconfig: pulumi.Input[str],
        cluster: pulumi.Input[str],
        namespace: pulumi.Input[str],
        opts: pulumi.ResourceOptions | None = None,
    ) -> None:
        secrets = pulumi.ResourceOptions(additional_secret_outputs=list(KUBECONFIG_KEYS))
        super().__init__(
            PivotProvider(),
            name,
            {
                "source_kubeconfig": pulumi.Output.secret(source_kubeconfig),
                "target_kubeconfig": pulumi.Output.secret(target_kubeconfig),
                "cluster": cluster,
                "namespace": namespace,
                "moved": None,
            },
            pulumi.ResourceOptions.merge(opts, secrets),
        )
