"""Score ``${...}`` placeholders: find and substitute them; resolving is the caller's job.

Rules: ``${a.b.c}`` is a reference split on dots (``\\.`` keeps a dot inside a key), ``$$`` is
a literal ``$`` (so ``$${x}`` is a literal ``${x}``), any other ``$`` is literal. The loader
uses ``iter_references`` to check references; the service compiler uses ``substitute`` with a
resolver that knows the cluster and the other services.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator

__all__ = [
    "PlaceholderError",
    "Reference",
    "iter_references",
    "reverse_escapes",
    "substitute",
]

Reference = tuple[str, ...]


class PlaceholderError(ValueError):
    """A malformed placeholder (the message quotes it)."""


def _split_reference(body: str) -> Reference:
    if "\\." in body:
        marker = "\x00"
        parts = [p.replace(marker, ".") for p in body.replace("\\.", marker).split(".")]
    else:
        parts = body.split(".")
    if "" in parts:
        raise PlaceholderError(f"'${{{body}}}' has an empty part: expected ${{a.b.c}}")
    return tuple(parts)


def _scan(text: str, on_reference: Callable[[Reference], str]) -> str:
    if "$" not in text:
        return text
    out: list[str] = []
    i = 0
    while True:
        dollar = text.find("$", i)
        if dollar < 0:
            out.append(text[i:])
            return "".join(out)
        out.append(text[i:dollar])
        if text.startswith("$$", dollar):
            out.append("$")
            i = dollar + 2
        elif text.startswith("${", dollar):
            end = text.find("}", dollar + 2)
            if end < 0:
                raise PlaceholderError(f"'{text[dollar : dollar + 40]}' has no closing '}}'")
            out.append(on_reference(_split_reference(text[dollar + 2 : end])))
            i = end + 1
        else:
            out.append("$")
            i = dollar + 1


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


def reverse_escapes(text: str) -> str:
    """For ``reverseExpand`` files: ``$${x}`` is a placeholder and ``${x}`` stays literal.

    Shell scripts and templates full of ``${VAR}`` can then be embedded unchanged.
    """
    out, i = [], 0
    while i < len(text):
        if text.startswith("$${", i):
            out.append("${")
            i += 3
        elif text.startswith("${", i):
            out.append("$${")
            i += 2
        elif text.startswith("$$", i):
            out.append("$$")
            i += 2
        else:
            out.append(text[i])
            i += 1
    return "".join(out)
