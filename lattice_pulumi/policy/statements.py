"""Split Cedar policy text into statements with their start positions.

cedarpy parses and validates a whole text at once and names policies only by position
(``policy0``, ``policy1``, ...) without line numbers. This scanner finds where each statement
starts (honouring string literals and ``//`` comments), so a parse or validation finding can
be reported at ``line:column`` of the statement it belongs to, and a text that does not parse
can be narrowed to the first statement that fails. It does not parse Cedar itself.
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["Statement", "split_statements"]


@dataclass(frozen=True)
class Statement:
    """One ``...;`` statement: its text and 1-based start line and column."""

    text: str
    line: int
    column: int


def split_statements(text: str) -> list[Statement]:
    """Return the statements of ``text`` in order; trailing text without ``;`` is one more.

    Comments and whitespace between statements are skipped; a statement starts at its first
    significant character (an ``@annotation`` or ``permit``/``forbid``).
    """
    statements: list[Statement] = []
    start: int | None = None
    in_string = False
    i = 0
    while i < len(text):
        char = text[i]
        if in_string:
            if char == "\\":
                i += 2
                continue
            if char == '"':
                in_string = False
        elif char == "/" and text.startswith("//", i):
            newline = text.find("\n", i)
            i = len(text) if newline < 0 else newline
            continue
        elif char == '"':
            in_string = True
            start = i if start is None else start
        elif char == ";" and start is not None:
            statements.append(_statement(text, start, i + 1))
            start = None
        elif not char.isspace() and start is None:
            start = i
        i += 1
    if start is not None:
        statements.append(_statement(text, start, len(text)))
    return statements


def _statement(text: str, start: int, end: int) -> Statement:
    line = text.count("\n", 0, start) + 1
    column = start - (text.rfind("\n", 0, start) + 1) + 1
    return Statement(text[start:end], line, column)
