"""OData system query options of ``/Products``: parsing, validation, envelope and ``@odata.nextLink``."""

from __future__ import annotations

import re
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote_plus, urlencode

from emulators.cdse import errors
from emulators.cdse.product import EXPANDABLE, ORDERABLE
from emulators.cdse.store import OrderBy

MAX_TOP = 1000
MAX_SKIP = 10_000
DEFAULT_TOP = 20
SELECTABLE = (
    "Id",
    "Name",
    "ContentType",
    "ContentLength",
    "OriginDate",
    "PublicationDate",
    "ModificationDate",
    "Online",
    "EvictionDate",
    "S3Path",
    "Checksum",
    "ContentDate",
    "Footprint",
    "GeoFootprint",
)
_TRUE = ("True", "true", "1")
_FALSE = ("False", "false", "0")
_LT_MILLIS = re.compile(r"(\blt\s+\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2})\.(\d{3})(Z)")


@dataclass(frozen=True)
class QueryOptions:
    """Validated options plus the decoded query pairs (in request order) for building nextLink."""

    filter: str | None
    orderby: OrderBy
    top: int
    skip: int
    count: bool
    expand: tuple[str, ...]
    select: tuple[str, ...] | None
    pairs: tuple[tuple[str, str], ...]


def last_value(pairs: Sequence[tuple[str, str]], name: str) -> str | None:
    """The value of the last ``name=`` pair (OData: a repeated system query option counts once, the last)."""
    found = None
    for k, v in pairs:
        if k == name:
            found = v
    return found


def _int(pairs: list[tuple[str, str]], name: str, default: int, limit: int, problems: list[dict[str, Any]]) -> int:
    raw = last_value(pairs, name)
    if raw is None:
        return default
    try:
        value = int(raw.strip())
    except ValueError:
        problems.append(errors.int_parsing(name, raw))
        return default
    if value < 0:
        problems.append(errors.greater_equal(name, raw, 0))
    elif value > limit:
        problems.append(errors.less_equal(name, raw, limit))
    return value


def parse_options(pairs: list[tuple[str, str]]) -> QueryOptions:
    """Validate ``$top``/``$skip``/``$count`` (422 like FastAPI) and ``$orderby``/``$expand``/``$select`` (400)."""
    problems: list[dict[str, Any]] = []
    top = _int(pairs, "$top", DEFAULT_TOP, MAX_TOP, problems)
    skip = _int(pairs, "$skip", 0, MAX_SKIP, problems)
    count = False
    raw_count = last_value(pairs, "$count")
    if raw_count is not None:
        if raw_count in _TRUE:
            count = True
        elif raw_count not in _FALSE:
            problems.append(errors.bool_parsing("$count", raw_count))
    if problems:
        raise errors.validation(problems)
    return QueryOptions(
        filter=last_value(pairs, "$filter"),
        orderby=parse_orderby(last_value(pairs, "$orderby")),
        top=top,
        skip=skip,
        count=count,
        expand=_expand(pairs),
        select=parse_select(last_value(pairs, "$select")),
        pairs=tuple(pairs),
    )


def parse_orderby(raw: str | None, orderable: Collection[str] = ORDERABLE) -> OrderBy:
    """``$orderby``: ``(property, descending)`` terms (400 for a malformed term or a property outside ``orderable``)."""
    if raw is None or not raw.strip():
        return ()
    out = []
    for term in raw.split(","):
        words = term.split()
        if not words or len(words) > 2 or (len(words) == 2 and words[1] not in ("asc", "desc")):
            raise errors.detail(400, f"Invalid $orderby term {term.strip()!r}: use '<property> [asc|desc]'")
        if words[0] not in orderable:
            allowed = ", ".join(orderable)
            raise errors.detail(400, f"Invalid $orderby property {words[0]!r}: orderable are {allowed}")
        out.append((words[0], len(words) == 2 and words[1] == "desc"))
    return tuple(out)


def _expand(pairs: list[tuple[str, str]]) -> tuple[str, ...]:
    out: list[str] = []
    for k, v in pairs:
        if k != "$expand":
            continue
        for name in v.split(","):
            name = name.strip()
            if name not in EXPANDABLE:
                raise errors.detail(400, f"Invalid $expand value {name!r}: expandable are {', '.join(EXPANDABLE)}")
            if name not in out:
                out.append(name)
    return tuple(out)


def parse_select(raw: str | None, selectable: tuple[str, ...] = SELECTABLE) -> tuple[str, ...] | None:
    """``$select``: the named properties (400 for one outside ``selectable``); None for all of them."""
    if raw is None or raw.strip() in ("", "*"):
        return None
    names = tuple(n.strip() for n in raw.split(","))
    for n in names:
        if n not in selectable:
            raise errors.detail(400, f"Invalid $select property {n!r}: selectable are {', '.join(selectable)}")
    return names


def context(entity_set: str, expand: tuple[str, ...], entity: bool = False) -> str:
    """``$metadata#Products``, with expands in request order (``(Attributes(),Assets())``), ``/$entity`` for one."""
    text = f"$metadata#{entity_set}"
    if expand:
        text += "(" + ",".join(f"{e}()" for e in expand) + ")"
    return text + ("/$entity" if entity else "")


def apply_select(record: dict[str, Any], select: tuple[str, ...] | None) -> dict[str, Any]:
    """Keep only the selected fields (``Id`` always, navigation properties when expanded)."""
    if select is None:
        return record
    keep = {"@odata.mediaContentType", "Id", *select, *EXPANDABLE}
    return {k: v for k, v in record.items() if k in keep}


def next_link(base: str, opts: QueryOptions, matched: int, reserialise: bool = True) -> str | None:
    """The nextLink for a page, or None on the last page / when the next ``$skip`` would exceed the limit.

    The query is re-encoded as CDSE does (``%24filter=…+eq+…``) with ``$skip`` replaced in place or
    appended. With ``reserialise``, ``lt`` datetime literals with milliseconds come back with
    microseconds, as in the recorded paging (clients must treat nextLink as opaque).
    """
    nxt = opts.skip + opts.top
    if opts.top == 0 or nxt >= matched or nxt > MAX_SKIP:
        return None
    pairs: list[tuple[str, str]] = []
    replaced = False
    for k, v in opts.pairs:
        if k == "$skip":
            if replaced:
                continue
            v, replaced = str(nxt), True
        elif k == "$filter" and reserialise:
            v = _LT_MILLIS.sub(r"\1.\g<2>000\3", v)
        pairs.append((k, v))
    if not replaced:
        pairs.append(("$skip", str(nxt)))
    return f"{base}?{urlencode(pairs, quote_via=quote_plus)}"
