"""YAML that every Kubernetes reader reads back as written.

ruamel.yaml writes YAML 1.2, where ``no``, ``on``, ``0755`` or ``12:30`` are plain strings,
so it leaves them unquoted. kubectl and the API machinery (``sigs.k8s.io/yaml``, a fork of
go-yaml v2) and PyYAML read YAML 1.1, where the same text is a bool, an int or a float. Every
YAML file Lattice writes (``lattice render``, ``lattice crds``, the bootstrap bundles, ``-o
yaml``) goes through :func:`dump_all`, whose representer single-quotes any string that
:func:`plain_is_string` does not clear: the union of the YAML 1.1 implicit types (as PyYAML
resolves them, plus the ``y``/``n`` booleans of the YAML 1.1 type repository that go-yaml v2
honours), the YAML 1.2 core schema, and go-yaml v2's own readings (Go integer literals with
upper-case prefixes such as ``0X1F``, timestamps such as ``2002-1-2``). Quoting a string
that needed none is harmless; the rules err on that side.

Otherwise the output is ruamel's round-trip block style: keys in insertion order, no flow
collections, lines up to ``width`` long, no anchors or aliases, floats always with a dot
(``1.0e-05``: YAML 1.1 reads ``1e-05`` as a string); with ``literal_blocks``
multi-line strings become ``|`` blocks where such a block holds them exactly (else, and by
default, they are double-quoted with ``\n`` escapes).
"""

from __future__ import annotations

import io
import math
import re
from collections.abc import Iterable
from typing import Any

from ruamel.yaml import YAML
from ruamel.yaml.nodes import ScalarNode
from ruamel.yaml.representer import RoundTripRepresenter
from ruamel.yaml.scalarstring import LiteralScalarString

__all__ = ["WIDE", "KubernetesRepresenter", "dump", "dump_all", "plain_is_string"]

WIDE = 4096  # long lines (commands, URLs) stay on one line

_BOOL = r"y|Y|yes|Yes|YES|n|N|no|No|NO|true|True|TRUE|false|False|FALSE|on|On|ON|off|Off|OFF"
_NULL = r"~|null|Null|NULL|"
_INT = r"""
    [-+]?0[bB][0-1_]+                 # binary (1.1; Go)
  | [-+]?0[oO][0-7_]+                 # octal (1.2 core; Go)
  | [-+]?0[xX][0-9a-fA-F_]+           # hexadecimal (1.1, 1.2; Go also takes 0X)
  | [-+]?[0-9_]+                      # decimal, 1.1 octal 0755 (ruamel takes even "_")
  | [-+]?[0-9][0-9_]*(?::[0-5]?[0-9])+   # 1.1 sexagesimal 12:30
"""
_FLOAT = r"""
    [-+]?(?:[0-9][0-9_]*(?:\.[0-9_]*)?|\.[0-9_]+)(?:[eE][-+]?[0-9]+)?   # 1.5 1. .5 1e3
  | [-+]?[0-9][0-9_]*(?::[0-5]?[0-9])+\.[0-9_]*                         # 1.1 sexagesimal
  | [-+]?\.(?:inf|Inf|INF|nan|NaN|NAN)
"""
_TIMESTAMP = r"""
    [0-9]{4}-[0-9]{1,2}-[0-9]{1,2}(?:(?:[Tt]|[\ \t]+)[0-9].*)?   # 2001-12-14, with a time
"""
# the 1.1 merge key and value indicator, and the lone indicators `!`, `&`, `*` that the
# resolvers tag as tag:yaml.org,2002:yaml
_OTHER = r"<<|=|!|&|\*"

_NOT_A_STRING = re.compile(
    rf"\A(?:{_BOOL}|{_NULL}|{_INT}|{_FLOAT}|{_TIMESTAMP}|{_OTHER})\Z", re.VERBOSE | re.DOTALL
)

# Characters a reader may fold or drop unless escaped: CR, NEL, the Unicode line and
# paragraph separators, BOM, C0/C1 controls other than tab and newline.
_NEEDS_ESCAPES = re.compile("[\\x00-\\x08\\x0b-\\x1f\\x7f-\\x9f\\u2028\\u2029\\ufeff]")


def plain_is_string(text: str) -> bool:
    """Whether ``text`` written as a plain scalar reads back as that string in YAML 1.1 and 1.2.

    False means it must be quoted: some reader would take it as a bool, null, number,
    timestamp, merge key or value indicator. PyYAML's resolver patterns end in ``$``, which
    also matches before one final newline, so ``"0\\n"`` is judged as ``"0"`` too.
    """
    return all(_NOT_A_STRING.match(t) is None for t in (text, text.removesuffix("\n")))


class KubernetesRepresenter(RoundTripRepresenter):
    """Round-trip representer that quotes YAML 1.1 look-alikes and never writes aliases."""

    def represent_str(self, data: str) -> ScalarNode:
        if _NEEDS_ESCAPES.search(data):
            node: ScalarNode = self.represent_scalar("tag:yaml.org,2002:str", data, style='"')
        elif plain_is_string(data):
            node = super().represent_str(data)
        else:
            node = self.represent_scalar("tag:yaml.org,2002:str", data, style="'")
        return node

    def represent_float(self, data: float) -> ScalarNode:
        """``1e-05`` is a string to YAML 1.1 (no dot): write ``1.0e-05``."""
        if math.isnan(data):
            text = ".nan"
        elif math.isinf(data):
            text = ".inf" if data > 0 else "-.inf"
        else:
            text = repr(data).lower()
            if "e" in text and "." not in text:
                mantissa, _, exponent = text.partition("e")
                text = f"{mantissa}.0e{exponent}"
        node: ScalarNode = self.represent_scalar("tag:yaml.org,2002:float", text)
        return node

    def ignore_aliases(self, data: Any) -> bool:
        return True


KubernetesRepresenter.add_representer(str, KubernetesRepresenter.represent_str)
KubernetesRepresenter.add_representer(float, KubernetesRepresenter.represent_float)


def _fits_literal_block(text: str) -> bool:
    """A ``|`` block holds ``text`` exactly and readably: several lines of printable text
    (no tabs or carriage returns), none ending in blanks, the first not indented."""
    lines = text.rstrip("\n").split("\n")
    return (
        len(lines) > 1
        and not lines[0].startswith(" ")
        and all(line.isprintable() and not line.endswith(" ") for line in lines)
    )


def _literal_blocks(node: Any) -> Any:
    """A copy with each multi-line string that fits a literal block marked as one."""
    if isinstance(node, dict):
        return {key: _literal_blocks(value) for key, value in node.items()}
    if isinstance(node, list):
        return [_literal_blocks(value) for value in node]
    if isinstance(node, str) and _fits_literal_block(node):
        return LiteralScalarString(node)
    return node


def _prepared(document: Any, literal_blocks: bool) -> Any:
    """The document to dump; a bare string document stays as is (a zero-indented ``|``
    block at the top level is beyond PyYAML)."""
    if not literal_blocks or isinstance(document, str):
        return document
    return _literal_blocks(document)


def _yaml(width: int) -> YAML:
    yaml = YAML(typ="rt")
    yaml.Representer = KubernetesRepresenter
    yaml.default_flow_style = False
    yaml.width = width
    return yaml


def dump_all(
    documents: Iterable[Any], *, width: int = WIDE, literal_blocks: bool = False
) -> str:
    """A multi-document YAML stream (``---`` between documents) safe for YAML 1.1 readers."""
    docs = [_prepared(doc, literal_blocks) for doc in documents]
    stream = io.StringIO()
    _yaml(width).dump_all(docs, stream)
    return stream.getvalue()


def dump(document: Any, *, width: int = WIDE, literal_blocks: bool = False) -> str:
    """One YAML document safe for YAML 1.1 readers."""
    stream = io.StringIO()
    _yaml(width).dump(_prepared(document, literal_blocks), stream)
    return stream.getvalue()
