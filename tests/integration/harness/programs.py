"""Small Pulumi programs and a dynamic provider used by the engine smoke tests.

They live in an importable module (not a test file) because a dynamic provider is
pickled by reference: the ``pulumi-resource-pulumi-python`` process imports this module
again, with ``tests/integration`` on its PYTHONPATH (set by the engine fixture).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pulumi
from pulumi.dynamic import CreateResult, DiffResult, ReadResult, Resource, ResourceProvider


class LocalFileProvider(ResourceProvider):
    """Writes one text file; replaces it when path or content change; deletes it on destroy."""

    def create(self, props: dict[str, Any]) -> CreateResult:
        path = Path(props["path"])
        path.write_text(props["content"])
        return CreateResult(id_=str(path), outs={**props, "size": len(props["content"])})

    def diff(self, _id: str, olds: dict[str, Any], news: dict[str, Any]) -> DiffResult:
        changed = [key for key in ("path", "content") if olds.get(key) != news.get(key)]
        return DiffResult(changes=bool(changed), replaces=changed, delete_before_replace=True)

    def read(self, id_: str, props: dict[str, Any]) -> ReadResult:
        path = Path(id_)
        if not path.exists():
            return ReadResult(id_="", outs={})
        return ReadResult(id_=id_, outs={**props, "content": path.read_text()})

    def delete(self, id_: str, _props: dict[str, Any]) -> None:
        Path(id_).unlink(missing_ok=True)


class LocalFile(Resource):
    """A file on the local disk, managed by :class:`LocalFileProvider`."""

    path: pulumi.Output[str]
    content: pulumi.Output[str]
    size: pulumi.Output[int]

    def __init__(
        self,
        name: str,
        path: pulumi.Input[str],
        content: pulumi.Input[str],
        opts: pulumi.ResourceOptions | None = None,
    ) -> None:
        super().__init__(
            LocalFileProvider(),
            name,
            {"path": path, "content": content, "size": None},
            opts,
        )
