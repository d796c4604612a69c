"""Read index-friendly facts from the top-level ``and`` terms of a filter (for candidate narrowing)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from emulators.odata.ast import And, Compare, Node


@dataclass(frozen=True)
class Range:
    """Bounds implied for one property: ``lo``/``hi`` (None = open) and whether each end is included."""

    lo: Any = None
    lo_inclusive: bool = True
    hi: Any = None
    hi_inclusive: bool = True

    @property
    def bounded(self) -> bool:
        """True when at least one end is set."""
        return self.lo is not None or self.hi is not None


def conjuncts(node: Node) -> list[Node]:
    """The terms of a top-level ``and`` (nested ``and`` flattened); ``[node]`` otherwise."""
    if isinstance(node, And):
        out: list[Node] = []
        for item in node.items:
            out.extend(conjuncts(item))
        return out
    return [node]


def range_of(node: Node, path: str, kinds: tuple[str, ...] = ("datetime",)) -> Range:
    """The tightest range on ``path`` implied by its top-level comparisons with literals of ``kinds``."""
    lo: Any = None
    lo_inc = True
    hi: Any = None
    hi_inc = True
    for term in conjuncts(node):
        if not isinstance(term, Compare) or term.left.text != path or term.right.kind not in kinds:
            continue
        v = term.right.value
        if term.op in ("gt", "ge", "eq") and (lo is None or v > lo or (v == lo and term.op == "gt")):
            lo, lo_inc = v, term.op != "gt"
        if term.op in ("lt", "le", "eq") and (hi is None or v < hi or (v == hi and term.op == "lt")):
            hi, hi_inc = v, term.op != "lt"
    return Range(lo, lo_inc, hi, hi_inc)


def equals_of(node: Node, path: str) -> set[Any] | None:
    """Values ``path`` must equal according to top-level ``eq`` terms (empty set = contradiction), or None."""
    found: set[Any] | None = None
    for term in conjuncts(node):
        if isinstance(term, Compare) and term.op == "eq" and term.left.text == path and term.right.kind == "string":
            values = {term.right.value}
            found = values if found is None else found & values
    return found
