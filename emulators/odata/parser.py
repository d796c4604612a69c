"""Recursive-descent parser: ``$filter`` text to a syntax tree (precedence ``not`` > ``and`` > ``or``)."""

from __future__ import annotations

import uuid

import shapely
from shapely.errors import GEOSException

from emulators.odata.ast import And, Any_, Call, Compare, Intersects, Literal, Node, Not, Or, Path
from emulators.odata.errors import FilterError
from emulators.odata.lexer import Token, tokenize
from emulators.odata.literals import parse_datetime

COMPARISONS = ("eq", "ne", "gt", "ge", "lt", "le")
STRING_FUNCTIONS = ("contains", "startswith", "endswith")
INTERSECTS = "OData.CSC.Intersects"
INTERSECTS_ARGUMENTS = ("area", "Footprint", "footprint")
_FLIP = {"eq": "eq", "ne": "ne", "gt": "lt", "ge": "le", "lt": "gt", "le": "ge"}
_KEYWORDS = frozenset(("and", "or", "not", *COMPARISONS))


def parse_filter(text: str) -> Node:
    """Parse a ``$filter`` value; raises :class:`FilterError` with a position on bad input."""
    if not text.strip():
        raise FilterError("Invalid $filter: empty expression")
    return _Parser(text).parse()


def parse_geography(text: str, position: int = 0, source: str = "") -> Literal:
    """A ``geography'SRID=4326;<WKT>'`` literal, checked for SRID and validity (like CDSE, with shapely)."""
    body = text[text.index("'") + 1 : -1]
    srid, sep, wkt = body.partition(";")
    if not sep:
        srid, wkt = "SRID=4326", body
    if srid.replace(" ", "").upper() != "SRID=4326":
        raise FilterError(f"Invalid geography literal: only SRID=4326 is supported, got {srid!r}", position, source)
    try:
        geom = shapely.from_wkt(wkt)
    except (GEOSException, ValueError) as exc:
        raise FilterError(f"Invalid geography literal: {exc}", position, source) from None
    if geom is None or geom.is_empty:
        raise FilterError("Invalid geography literal: empty geometry", position, source)
    if not geom.is_valid:
        reason = shapely.is_valid_reason(geom)
        raise FilterError(f"Invalid geography literal: invalid geometry ({reason})", position, source)
    return Literal(geom, "geography", text, position)


class _Parser:
    def __init__(self, text: str) -> None:
        self.text = text
        self.tokens = tokenize(text)
        self.i = 0
        self.lambda_vars: list[str] = []

    # -- token helpers
    def peek(self, offset: int = 0) -> Token:
        return self.tokens[min(self.i + offset, len(self.tokens) - 1)]

    def take(self) -> Token:
        tok = self.tokens[self.i]
        self.i = min(self.i + 1, len(self.tokens) - 1)
        return tok

    def is_name(self, *words: str) -> bool:
        tok = self.peek()
        return tok.kind == "name" and tok.text in words

    def is_punct(self, char: str) -> bool:
        tok = self.peek()
        return tok.kind == "punct" and tok.text == char

    def expect_punct(self, char: str) -> Token:
        if not self.is_punct(char):
            self.fail(f"expected {char!r}")
        return self.take()

    def fail(self, what: str) -> None:
        tok = self.peek()
        found = "end of expression" if tok.kind == "end" else repr(tok.text)
        hint = ""
        prev = self.tokens[self.i - 1] if self.i else None
        if prev is not None and prev.kind == "datetime" and tok.kind == "number" and ":" in self.text[tok.position :]:
            hint = "; a '+' in a time zone must be URL-encoded as %2B"
        raise FilterError(f"Invalid $filter: {what} but found {found}{hint}", tok.position, self.text)

    # -- grammar
    def parse(self) -> Node:
        node = self.parse_or()
        if self.peek().kind != "end":
            self.fail("expected 'and', 'or' or end of expression")
        return node

    def parse_or(self) -> Node:
        items = [self.parse_and()]
        while self.is_name("or"):
            self.take()
            items.append(self.parse_and())
        return items[0] if len(items) == 1 else Or(tuple(items))

    def parse_and(self) -> Node:
        items = [self.parse_unary()]
        while self.is_name("and"):
            self.take()
            items.append(self.parse_unary())
        return items[0] if len(items) == 1 else And(tuple(items))

    def parse_unary(self) -> Node:
        if self.is_name("not"):
            self.take()
            return Not(self.parse_unary())
        if self.is_punct("("):
            self.take()
            node = self.parse_or()
            self.expect_punct(")")
            return node
        return self.parse_primary()

    def parse_primary(self) -> Node:
        tok = self.peek()
        if tok.kind == "name" and tok.text not in _KEYWORDS and tok.text not in ("true", "false", "null"):
            self.take()
            if self.is_punct("("):
                return self.parse_call(tok)
            path = self.make_path(tok)
            if self.is_name(*COMPARISONS):
                op = self.take().text
                return Compare(op, path, self.parse_literal(), tok.position)
            return path  # bare boolean property, e.g. "Online"
        if tok.kind in ("string", "number", "datetime", "guid") or self.is_name("true", "false", "null"):
            lit = self.parse_literal()
            if not self.is_name(*COMPARISONS):
                self.fail("expected a comparison operator after a literal")
            op = self.take().text
            name = self.peek()
            if name.kind != "name":
                self.fail("expected a property")
            self.take()
            return Compare(_FLIP[op], self.make_path(name), lit, tok.position)
        self.fail("expected a condition")
        raise AssertionError  # unreachable

    def make_path(self, tok: Token) -> Path:
        return Path(tuple(tok.text.split("/")), tok.position)

    def parse_literal(self) -> Literal:
        tok = self.peek()
        if tok.kind == "string":
            self.take()
            return Literal(tok.text[1:-1].replace("''", "'"), "string", tok.text, tok.position)
        if tok.kind == "guid":
            self.take()
            return Literal(str(uuid.UUID(tok.text)), "guid", tok.text, tok.position)
        if tok.kind == "datetime":
            self.take()
            try:
                return Literal(parse_datetime(tok.text), "datetime", tok.text, tok.position)
            except ValueError as exc:
                raise FilterError(f"Invalid $filter: {exc}", tok.position, self.text) from None
        if tok.kind == "number":
            self.take()
            if any(c in tok.text for c in ".eE"):
                return Literal(float(tok.text), "float", tok.text, tok.position)
            return Literal(int(tok.text), "int", tok.text, tok.position)
        if tok.kind == "geo":
            self.take()
            return parse_geography(tok.text, tok.position, self.text)
        if self.is_name("true", "false"):
            self.take()
            return Literal(tok.text == "true", "bool", tok.text, tok.position)
        if self.is_name("null"):
            self.take()
            return Literal(None, "null", tok.text, tok.position)
        self.fail("expected a literal value")
        raise AssertionError  # unreachable

    def parse_call(self, tok: Token) -> Node:
        name = tok.text
        segments = name.split("/")
        if segments[-1] in ("any", "all"):
            return self.parse_lambda(tok, segments)
        self.expect_punct("(")
        if name in STRING_FUNCTIONS:
            arg0 = self.peek()
            if arg0.kind != "name":
                self.fail(f"{name}() expects a property as its first argument")
            self.take()
            self.expect_punct(",")
            lit = self.parse_literal()
            if lit.kind != "string":
                raise FilterError(f"Invalid $filter: {name}() expects a string literal", lit.position, self.text)
            self.expect_punct(")")
            return Call(name, self.make_path(arg0), lit, tok.position)
        if name == INTERSECTS:
            argument = ""
            if self.peek().kind == "name" and self.peek(1).kind == "punct" and self.peek(1).text == "=":
                argument = self.take().text
                if argument not in INTERSECTS_ARGUMENTS:
                    raise FilterError(
                        f"Invalid $filter: {INTERSECTS}() takes area=, Footprint= or footprint=, not {argument}=",
                        tok.position,
                        self.text,
                    )
                self.take()
            if self.peek().kind != "geo":
                self.fail(f"{INTERSECTS}() expects a geography'SRID=4326;…' literal")
            lit = self.parse_literal()
            self.expect_punct(")")
            return Intersects(lit.value, argument, tok.position)
        raise FilterError(f"Invalid $filter: unknown function {name!r}", tok.position, self.text)

    def parse_lambda(self, tok: Token, segments: list[str]) -> Node:
        if segments[-1] == "all":
            raise FilterError("Invalid $filter: the 'all' lambda operator is not supported", tok.position, self.text)
        if len(segments) < 2:
            raise FilterError(
                "Invalid $filter: 'any' needs a collection, e.g. Attributes/any(…)", tok.position, self.text
            )
        collection = segments[0]
        cast = None
        if len(segments) == 3:
            cast = _cast_name(segments[1])
            if cast is None:
                raise FilterError(f"Invalid $filter: unknown type cast {segments[1]!r}", tok.position, self.text)
        elif len(segments) > 3:
            raise FilterError(f"Invalid $filter: unsupported lambda path {tok.text!r}", tok.position, self.text)
        self.expect_punct("(")
        if self.is_punct(")"):
            self.take()
            return Any_(collection, cast, "", None, tok.position)
        var = self.peek()
        if var.kind != "name" or "/" in var.text or "." in var.text or var.text in _KEYWORDS:
            self.fail("expected a lambda variable name")
        self.take()
        self.expect_punct(":")
        self.lambda_vars.append(var.text)
        body = self.parse_or()
        self.lambda_vars.pop()
        self.expect_punct(")")
        return Any_(collection, cast, var.text, body, tok.position)


def _cast_name(segment: str) -> str | None:
    """``OData.CSC.StringAttribute`` -> ``StringAttribute``; None when not an OData.CSC type."""
    prefix = "OData.CSC."
    if segment.startswith(prefix) and segment.endswith("Attribute"):
        return segment[len(prefix) :]
    return None
