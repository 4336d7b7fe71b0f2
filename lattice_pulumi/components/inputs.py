"""Pulumi Inputs inside a spec: sentinel strings for the compiler, Outputs again for Pulumi.

Compilers are pure and take plain data, yet a program wires services together with values
known only later (an image from a build, another service's ``url``, a secret). So
``extract_inputs`` replaces every Output (or awaitable) leaf of a spec with a sentinel
string, the spec is validated and compiled as usual, and ``substitute_outputs`` walks each
compiled object and turns every string holding sentinels back into an Output (the Output
itself, or a concatenation when the compiler embedded it in a larger string). Objects
become Pulumi resources synchronously; only leaf fields wait for their values.

Sentinels are ``lattice-input-<tag>-<n>-x``: lowercase letters, digits and dashes, so they
pass the spec's text validators (image references, DNS labels), and deterministic (``tag``
comes from the component name), so compiling twice gives the same objects. Inputs are
supported in text fields; a number or a name given as an Output is reported as an error.
Used by ``components.service``.
"""

from __future__ import annotations

import hashlib
import inspect
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import pulumi

from lattice_pulumi.errors import CompileError

__all__ = ["Placeholders", "extract_inputs", "substitute_outputs"]


@dataclass
class Placeholders:
    """The Outputs taken out of one spec, each standing behind a numbered sentinel."""

    tag: str
    outputs: list[pulumi.Output[Any]] = field(default_factory=list)

    @classmethod
    def for_name(cls, name: str) -> Placeholders:
        return cls(hashlib.sha256(name.encode()).hexdigest()[:10])

    @property
    def marker(self) -> str:
        """The text every sentinel of this component starts with."""
        return f"lattice-input-{self.tag}-"

    @property
    def pattern(self) -> re.Pattern[str]:
        return re.compile(rf"lattice-input-{self.tag}-(\d+)-x")

    def add(self, value: Any) -> str:
        self.outputs.append(pulumi.Output.from_input(value))
        return f"lattice-input-{self.tag}-{len(self.outputs) - 1}-x"

    def indexes_in(self, value: Any) -> set[int]:
        """Which sentinels appear anywhere in ``value`` (keys and strings, recursively)."""
        found: set[int] = set()
        for text in _iter_strings(value):
            found.update(int(m.group(1)) for m in self.pattern.finditer(text))
        return found

    def describe(self, text: str) -> str:
        """``text`` with sentinels shown as ``<pulumi Output>`` (for error messages)."""
        return self.pattern.sub("<pulumi Output>", text)


def _is_input_value(value: Any) -> bool:
    return isinstance(value, pulumi.Output) or inspect.isawaitable(value)


def extract_inputs(value: Any, placeholders: Placeholders) -> Any:
    """A copy of ``value`` with every Output or awaitable leaf replaced by a sentinel."""
    if _is_input_value(value):
        return placeholders.add(value)
    if isinstance(value, Mapping):
        out: dict[Any, Any] = {}
        for key, item in value.items():
            if _is_input_value(key):
                raise CompileError("a mapping key cannot be a Pulumi Output")
            out[key] = extract_inputs(item, placeholders)
        return out
    if isinstance(value, list | tuple):
        return [extract_inputs(item, placeholders) for item in value]
    return value


def substitute_outputs(value: Any, placeholders: Placeholders) -> Any:
    """A copy of ``value`` where every string holding sentinels is an Output again."""
    if not placeholders.outputs:
        return value
    if isinstance(value, str):
        return _text_output(value, placeholders)
    if isinstance(value, Mapping):
        for key in value:
            if isinstance(key, str) and placeholders.pattern.search(key):
                raise CompileError(
                    f"'{placeholders.describe(key)}': a Pulumi Output ended up in a field "
                    "name; Outputs are supported in values only"
                )
        return {key: substitute_outputs(item, placeholders) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [substitute_outputs(item, placeholders) for item in value]
    return value


def _text_output(text: str, placeholders: Placeholders) -> str | pulumi.Output[str]:
    pieces: list[str | pulumi.Output[Any]] = []
    last = 0
    for match in placeholders.pattern.finditer(text):
        if match.start() > last:
            pieces.append(text[last : match.start()])
        pieces.append(placeholders.outputs[int(match.group(1))])
        last = match.end()
    if not pieces:
        return text
    if last < len(text):
        pieces.append(text[last:])
    return pulumi.Output.all(*pieces).apply(_join)


def _join(values: Sequence[Any]) -> str:
    return "".join(_text(v) for v in values)


def _text(value: Any) -> str:
    if isinstance(value, bool):  # as YAML and the spec write them
        return "true" if value else "false"
    return value if isinstance(value, str) else str(value)


def _iter_strings(value: Any) -> list[str]:
    found: list[str] = []
    stack = [value]
    while stack:
        item = stack.pop()
        if isinstance(item, str):
            found.append(item)
        elif isinstance(item, Mapping):
            stack += [k for k in item if isinstance(k, str)]
            stack += list(item.values())
        elif isinstance(item, list | tuple):
            stack += list(item)
    return found
