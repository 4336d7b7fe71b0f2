"""Score ``${...}`` placeholders: find and substitute them; resolving is the caller's job.

Rules: ``${a.b.c}`` is a reference split on dots (``\\.`` keeps a dot inside a key), ``$$`` is
a literal ``$`` (so ``$${x}`` is a literal ``${x}``), any other ``$`` is literal. The loader
uses ``iter_references`` to check references; the service compiler uses ``substitute`` with a
resolver that knows the cluster and the other services.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator

__all__ = ["PlaceholderError", "Reference", "iter_references", "substitute"]

Reference = tuple[str, ...]


class PlaceholderError(ValueError):
    """A malformed placeholder (the message quotes it)."""


def _split_reference(body: str) -> Reference:
    parts: list[str] = []
    current = ""
    i = 0
    while i < len(body):
        if body.startswith("\\.", i):
            current += "."
            i += 2
            continue
        if body[i] == ".":
            parts.append(current)
            current = ""
        else:
            current += body[i]
        i += 1
    parts.append(current)
    if any(p == "" for p in parts):
        raise PlaceholderError(f"'${{{body}}}' has an empty part: expected ${{a.b.c}}")
    return tuple(parts)


def _scan(text: str, on_reference: Callable[[Reference], str]) -> str:
    out: list[str] = []
    i = 0
    while i < len(text):
        if text.startswith("$$", i):
            out.append("$")
            i += 2
        elif text.startswith("${", i):
            end = text.find("}", i + 2)
            if end < 0:
                raise PlaceholderError(f"'{text[i : i + 40]}' has no closing '}}'")
            out.append(on_reference(_split_reference(text[i + 2 : end])))
            i = end + 1
        else:
            out.append(text[i])
            i += 1
    return "".join(out)


def iter_references(text: str) -> Iterator[Reference]:
    """Every reference in ``text``, in order; raises PlaceholderError on malformed ones."""
    found: list[Reference] = []

    def record(ref: Reference) -> str:
        found.append(ref)
        return ""

    _scan(text, record)
    yield from found


def substitute(text: str, resolve: Callable[[Reference], str]) -> str:
    """``text`` with every placeholder replaced by ``resolve(reference)`` and escapes undone."""
    return _scan(text, resolve)
