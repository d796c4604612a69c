"""Tokens of a ``$filter`` string."""

from __future__ import annotations

import re
from dataclasses import dataclass

from emulators.odata.errors import FilterError

_GUID = r"[0-9A-Fa-f]{8}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{12}(?![\w.])"
_DATETIME = r"\d{4}-\d{2}-\d{2}(?:T\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?(?:Z|z|[+-]\d{2}:\d{2})?)?(?![\w.:])"
_TOKEN = re.compile(
    rf"""
    (?P<ws>\s+)
  | (?P<geo>(?:geography|geometry)'[^']*')
  | (?P<string>'(?:[^']|'')*')
  | (?P<guid>{_GUID})
  | (?P<datetime>{_DATETIME})
  | (?P<number>[-+]?(?:\d+\.\d*|\.\d+|\d+)(?:[eE][-+]?\d+)?(?![\w.]))
  | (?P<name>[A-Za-z_][A-Za-z0-9_.]*(?:/[A-Za-z_$][A-Za-z0-9_.]*)*)
  | (?P<punct>[(),:=])
    """,
    re.VERBOSE,
)


@dataclass(frozen=True)
class Token:
    """One token: ``kind`` is geo, string, guid, datetime, number, name, punct or end."""

    kind: str
    text: str
    position: int


def tokenize(text: str) -> list[Token]:
    """Split ``text`` into tokens (whitespace dropped), ending with an ``end`` token."""
    tokens: list[Token] = []
    pos = 0
    while pos < len(text):
        m = _TOKEN.match(text, pos)
        if not m:
            hint = ""
            if text[pos] == "'":
                hint = " (unterminated string literal)"
            raise FilterError(f"Invalid $filter: unexpected character {text[pos]!r}{hint}", pos, text)
        kind = m.lastgroup or ""
        if kind != "ws":
            tokens.append(Token(kind, m.group(), pos))
        pos = m.end()
    tokens.append(Token("end", "", len(text)))
    return tokens
