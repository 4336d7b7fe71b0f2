"""YAML documents with positions: parse text into plain data and find the line of a path.

The loader validates the plain data and asks ``Document.locate`` where a field path sits in
the file, so errors can name ``file:line:column``. Uses ruamel.yaml (YAML 1.2: ``yes`` stays a
string, ``0644`` stays 644).
"""

from __future__ import annotations

import datetime
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedMap, CommentedSeq
from ruamel.yaml.error import MarkedYAMLError, YAMLError
from ruamel.yaml.scalarint import BinaryInt, HexInt, OctalInt

from lattice_pulumi.errors import FieldPath, SpecError

__all__ = ["Document", "parse_documents"]

_MAX_NODES = 200_000  # guards against alias bombs: a spec is never this large


@dataclass(frozen=True)
class Document:
    """One YAML document: plain data plus the parsed tree that knows positions."""

    data: Any
    tree: Any
    file: str
    index: int
    line: int  # 1-based line of the document's first node

    def locate(self, path: Sequence[str | int]) -> tuple[int, int, int]:
        """``(line, column, depth)`` of the deepest part of ``path`` present (1-based)."""
        node = self.tree
        line, column, depth = self.line, 1, 0
        for part in path:
            if isinstance(node, CommentedMap) and part in node:
                line, column = node.lc.key(part)
                line, column = line + 1, column + 1
                node = node[part]
            elif isinstance(node, CommentedSeq) and isinstance(part, int) and part < len(node):
                line, column = node.lc.item(part)
                line, column = line + 1, column + 1
                node = node[part]
            else:
                break
            depth += 1
        return line, column, depth

    def error(self, message: str, path: FieldPath = (), *, warning: bool = False) -> SpecError:
        line, column, _ = self.locate(path)
        return SpecError(message, path, self.file, line, column, warning)


def _to_plain(node: Any, budget: list[int]) -> Any:
    budget[0] -= 1
    if budget[0] < 0:
        raise ValueError("document is too large (more than 200000 nodes, alias bomb?)")
    if isinstance(node, dict):
        return {
            (k if isinstance(k, str) else str(k)): _to_plain(v, budget) for k, v in node.items()
        }
    if isinstance(node, list):
        return [_to_plain(v, budget) for v in node]
    if isinstance(node, bool) or node is None:
        return node
    if isinstance(node, OctalInt):
        return f"0{int(node):o}"  # keep the octal reading for file modes
    if isinstance(node, HexInt | BinaryInt | int):
        return int(node)
    if isinstance(node, float):
        return float(node)
    if isinstance(node, datetime.datetime | datetime.date):
        return node.isoformat()
    return str(node)


def parse_documents(text: str, file: str) -> tuple[list[Document], list[SpecError]]:
    """Every non-empty document of ``text``; a syntax error ends the file with one error."""
    yaml = YAML(typ="rt")
    documents: list[Document] = []
    try:
        for index, tree in enumerate(yaml.load_all(text)):
            if tree is None:
                continue
            line = tree.lc.line + 1 if isinstance(tree, CommentedMap | CommentedSeq) else 1
            data = _to_plain(tree, [_MAX_NODES])
            documents.append(Document(data, tree, file, index, line))
    except MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        problem = exc.problem or exc.context or "invalid YAML"
        line = mark.line + 1 if mark else None
        column = mark.column + 1 if mark else None
        return documents, [SpecError(f"invalid YAML: {problem}", (), file, line, column)]
    except (YAMLError, ValueError, RecursionError) as exc:
        return documents, [SpecError(f"invalid YAML: {exc}", (), file)]
    return documents, []
