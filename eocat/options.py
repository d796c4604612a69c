"""What every ``eocat`` command shares: options, store opening, output consoles and error handling.

Command modules (``eocat/cli_*.py``) import from here and never from :mod:`eocat.cli`, which only
assembles the command tree, so there is no import circle.

- :func:`selection_options` adds the one selection vocabulary (``--collections --ids --bbox
  --intersects --datetime --filter`` …) and passes the command a ready :class:`~catalog.search.Query`
  as ``query``; date-only values and intervals mean whole UTC days.
- :func:`harvest_options` adds the harvest area/time/restart options and passes a :class:`HarvestArgs`.
- :func:`format_option` is ``--format`` (never ``--json``).
- :func:`open_catalog` opens the ``--db`` catalogue; read commands pass ``must_exist=True`` so a
  mistyped path exits 3 instead of creating an empty catalogue.
- :class:`EocatGroup` prints every error as one line with a documented exit code — 2 bad input,
  3 not found, 1 upstream or I/O failure — and a traceback only with ``EOCAT_DEBUG=1``. It also
  accepts ``--db`` after the subcommand (``eocat search --db x.db``), for every command.
"""

from __future__ import annotations

import functools
import os
import re
import sys
import traceback
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

import click
import orjson
from rich.console import Console
from rich.text import Text

from catalog.errors import EocatError, InvalidQuery

if TYPE_CHECKING:
    from catalog.backend import CatalogStore
    from catalog.search import Query

DEFAULT_DB = "data/eocat.db"
#: exit codes (documented in the README and in ``eocat --help``)
EXIT_UPSTREAM = 1
EXIT_BAD_INPUT = 2
EXIT_NOT_FOUND = 3
F = TypeVar("F", bound=Callable[..., Any])

#: messages and summaries (stderr); markup and emoji are off so data is printed as it is
err = Console(stderr=True, soft_wrap=True, highlight=False, markup=False, emoji=False)


def out_console() -> Console:
    """Console for tables on stdout: terminal width, or wide enough for full ids when piped.

    Markup and emoji are off: ids such as ``x[/bold]y`` or ``a:x:b`` are printed as they are.
    """
    return Console(width=None if sys.stdout.isatty() else 220, markup=False, emoji=False, highlight=False)


# -- errors and --db ---------------------------------------------------------------------------


def _debug() -> bool:
    return os.environ.get("EOCAT_DEBUG", "") not in ("", "0")


def print_error(message: str) -> None:
    """One ``error: …`` line on stderr (no markup interpretation of the message)."""
    err.print(Text.assemble(("error: ", "red"), message.splitlines()[0] if message else "failed"))


class EocatGroup(click.Group):
    """The root group: one error line and exit code per failure; ``--db`` accepted on every command."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except EocatError as exc:
            _report(exc, exc.exit_code)
            ctx.exit(exc.exit_code)
        except BrokenPipeError:
            sys.stderr.close()
            ctx.exit(0)
        except (click.exceptions.Exit, click.ClickException, click.Abort):
            raise
        except KeyboardInterrupt:
            print_error("interrupted")
            ctx.exit(130)
        except OSError as exc:
            _report(exc, EXIT_UPSTREAM, f"{exc.strerror or type(exc).__name__}: {exc.filename or exc}")
            ctx.exit(EXIT_UPSTREAM)
        except Exception as exc:  # a bug, or an upstream failure no layer translated: still one line
            _report(exc, EXIT_UPSTREAM, f"{type(exc).__name__}: {exc} (EOCAT_DEBUG=1 shows the traceback)")
            ctx.exit(EXIT_UPSTREAM)

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        command = super().get_command(ctx, cmd_name)
        if command is not None:
            _add_db_option(command)
        return command


def _report(exc: BaseException, code: int, message: str | None = None) -> None:
    if _debug():
        traceback.print_exception(exc, file=sys.stderr)
    print_error(message or str(exc))


def _set_db(ctx: click.Context, _param: click.Parameter, value: str | None) -> None:
    if value is not None:
        ctx.obj = db_target(value)


def _db_param() -> click.Option:
    return click.Option(
        ["--db"], expose_value=False, is_eager=True, callback=_set_db, metavar="PATH|URL",
        help="Catalogue: a SQLite file or postgresql:// URL (also before the command, or EOCAT_DB).",
    )  # fmt: skip


def _add_db_option(command: click.Command) -> None:
    """Let ``--db`` follow the subcommand too (commands that pass raw arguments on are left alone)."""
    if getattr(command, "_eocat_db", False):
        return
    command._eocat_db = True  # type: ignore[attr-defined]
    if isinstance(command, click.Group):
        for sub in command.commands.values():
            _add_db_option(sub)
        return
    if command.context_settings.get("ignore_unknown_options"):
        return
    if not any("--db" in getattr(p, "opts", ()) for p in command.params):
        command.params.append(_db_param())


def db_target(value: str | Path) -> str | Path:
    """A ``--db`` value as :func:`catalog.backend.open_store` takes it (a Path, or a URL string)."""
    from catalog.backend import is_pgstac

    return str(value) if is_pgstac(str(value)) else Path(value)


def db_option(function: F) -> F:
    """The root group's ``--db`` (with ``EOCAT_DB``); sets ``ctx.obj`` to the catalogue target."""
    return click.option(
        "--db", "db", envvar="EOCAT_DB", default=DEFAULT_DB, show_default=True, metavar="PATH|URL",
        help="Catalogue: a SQLite file or a postgresql:// URL (or set EOCAT_DB).",
    )(function)  # fmt: skip


def catalog_target(ctx: click.Context) -> str | Path:
    """The ``--db`` target of this invocation."""
    return ctx.obj if ctx.obj is not None else Path(DEFAULT_DB)


def catalog_dir(ctx: click.Context) -> Path:
    """The directory beside a SQLite catalogue (default home of parquet/ and assets/)."""
    target = catalog_target(ctx)
    return target.parent if isinstance(target, Path) else Path("data")


def open_catalog(ctx: click.Context, *, must_exist: bool) -> CatalogStore:
    """Open the ``--db`` catalogue for this command (closed when the command ends).

    Read commands pass ``must_exist=True``: a missing catalogue is :class:`NotFound` (exit 3),
    never silently created.
    """
    from catalog.backend import open_store

    store = open_store(catalog_target(ctx), must_exist=must_exist)
    ctx.call_on_close(store.close)
    return store


# -- output ------------------------------------------------------------------------------------


def format_option(*choices: str, default: str | None = None, help: str = "") -> Callable[[F], F]:
    """``--format`` with the given choices (the first is the default), passed as ``output``."""
    text = help or "Output format."
    return click.option(
        "--format", "output", type=click.Choice(choices), default=default or choices[0], show_default=True, help=text
    )


def json_alias(function: F) -> F:
    """A hidden ``--json`` kept for old scripts: the same as ``--format json``."""

    def to_format(ctx: click.Context, _param: click.Parameter, value: bool) -> None:
        if value:
            ctx.meta["eocat.json"] = True

    return click.option(
        "--json", is_flag=True, hidden=True, expose_value=False, callback=to_format,
        help="Deprecated: use --format json.",
    )(function)  # fmt: skip


def wants_json(ctx: click.Context, output: str) -> bool:
    return output == "json" or bool(ctx.meta.get("eocat.json"))


def echo_json(document: Any) -> None:
    sys.stdout.buffer.write(orjson.dumps(document) + b"\n")
    sys.stdout.buffer.flush()


# -- time --------------------------------------------------------------------------------------

_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")


def _day(text: str, *, end: bool) -> str:
    try:
        day = date.fromisoformat(text)
    except ValueError:
        raise InvalidQuery(f"invalid date {text!r}: expected YYYY-MM-DD") from None
    return f"{day.isoformat()}T23:59:59.999999Z" if end else f"{day.isoformat()}T00:00:00Z"


def whole_days(interval: str) -> str:
    """A ``--datetime`` value with date-only parts widened to whole UTC days.

    ``2021-07-01`` → the whole day; ``2021-07-01/2021-07-31`` → July 1 00:00 to July 31 23:59:59.999999;
    RFC 3339 parts and ``..`` are kept as they are.
    """
    text = interval.strip()
    if "/" not in text:
        return f"{_day(text, end=False)}/{_day(text, end=True)}" if _DATE.match(text) else text
    parts = text.split("/")
    if len(parts) != 2:
        return text  # parse_interval explains the mistake
    start, end = parts
    start = _day(start, end=False) if _DATE.match(start) else start
    end = _day(end, end=True) if _DATE.match(end) else end
    return f"{start}/{end}"


def _exclusive_end(canonical: str) -> str:
    """An inclusive canonical end as the exclusive end harvest windows use (one microsecond later)."""
    from datetime import datetime

    from catalog.timeutil import MAX_TIME, format_canonical

    if canonical >= MAX_TIME:
        return canonical
    return format_canonical(datetime.fromisoformat(canonical.replace("Z", "+00:00")) + timedelta(microseconds=1))


# -- selection ---------------------------------------------------------------------------------

_SELECTION_KEYS = ("collections", "ids", "bbox", "intersects", "datetime_", "filter_", "filter_lang")


def read_geometry(value: str, option: str = "--intersects") -> dict[str, Any]:
    """A GeoJSON geometry from inline JSON or a file (a Feature or a one-feature FeatureCollection too).

    A FeatureCollection of several features becomes their union (an area made of parts).
    """
    text = value
    if not value.lstrip().startswith("{"):
        path = Path(value)
        if not path.is_file():
            raise InvalidQuery(f"{option}: {value!r} is neither GeoJSON nor a file")
        try:
            text = path.read_text()
        except (OSError, UnicodeDecodeError) as exc:
            raise InvalidQuery(f"{option} {value}: cannot read: {exc}") from None
    try:
        document = orjson.loads(text)
    except orjson.JSONDecodeError as exc:
        raise InvalidQuery(f"{option}: malformed JSON: {exc}") from None
    if not isinstance(document, dict):
        raise InvalidQuery(f"{option}: expected a GeoJSON object")
    if document.get("type") == "Feature":
        document = document.get("geometry")
    elif document.get("type") == "FeatureCollection":
        features = [f for f in document.get("features") or [] if isinstance(f, dict) and f.get("geometry")]
        if not features:
            raise InvalidQuery(f"{option}: no geometry in the FeatureCollection")
        if len(features) == 1:
            document = features[0]["geometry"]
        else:
            import shapely

            from catalog.geo import SpatialFilter

            union = shapely.union_all([SpatialFilter.from_geojson(f["geometry"]).geometry for f in features])
            document = shapely.geometry.mapping(union)
    if not isinstance(document, dict):
        raise InvalidQuery(f"{option}: expected a GeoJSON geometry")
    return dict(document)


def build_query(
    *, collections: str | None = None, ids: str | None = None, bbox: str | None = None,
    intersects: str | None = None, datetime_: str | None = None, filter_: str | None = None,
    filter_lang: str | None = None, sortby: str | None = None, fields: str | None = None, limit: int | None = None,
) -> Query:  # fmt: skip
    """A :class:`~catalog.search.Query` from command-line option values (the page size is at most 1000)."""
    from catalog.search import Query

    return Query.parse(
        collections=collections, ids=ids, bbox=bbox,
        intersects=read_geometry(intersects) if intersects else None,
        datetime=whole_days(datetime_) if datetime_ else None,
        filter=filter_, filter_lang=filter_lang, sortby=sortby, fields=fields,
        limit=min(limit, 1000) if limit else 1000,
    )  # fmt: skip


def has_selection(query: Query) -> bool:
    """True when the query selects something narrower than the whole catalogue."""
    return bool(query.collections or query.ids or query.bbox or query.intersects or query.datetime or query.filter)


def selection_options(
    function: F | None = None, *, sort: bool = True, fields: bool = False, limit: str | None = None
) -> Any:
    """Add the selection vocabulary and pass the command ``query`` (a Query) instead of the raw values.

    ``sort``/``fields`` add ``--sortby``/``--fields``; ``limit`` (its help text) adds ``--limit``,
    passed on as ``limit`` (None: all). Use as ``@selection_options`` or ``@selection_options(fields=True)``.
    """

    def decorate(command: F) -> F:
        @functools.wraps(command)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            values = {key: kwargs.pop(key, None) for key in (*_SELECTION_KEYS, "sortby", "fields")}
            kwargs["query"] = build_query(**values, limit=kwargs.get("limit"))
            return command(*args, **kwargs)

        options = [
            click.option("--collections", metavar="IDS", help="Comma-separated collection ids."),
            click.option("--ids", metavar="IDS", help="Comma-separated item ids (combined with the other filters)."),
            click.option("--bbox", metavar="W,S,E,N", help="W,S,E,N (or 6 numbers); W > E crosses the antimeridian."),
            click.option("--intersects", metavar="GEOJSON", help="A GeoJSON geometry, inline or as a file path."),
            click.option(
                "--datetime",
                "datetime_",
                metavar="INTERVAL",
                help="RFC 3339 instant or START/END, '..' open; dates (YYYY-MM-DD) mean whole UTC days.",
            ),
            click.option("--filter", "filter_", metavar="CQL2", help="CQL2 text (or JSON) filter."),
            click.option(
                "--filter-lang", type=click.Choice(["cql2-text", "cql2-json"]), help="Filter language (default: guess)."
            ),
        ]
        if sort:
            options.append(
                click.option(
                    "--sortby",
                    help="e.g. -datetime,+id or -eo:cloud_cover (default -datetime); items without it sort last.",
                )
            )
        if fields:
            options.append(click.option("--fields", help="Fields extension, e.g. id,properties.datetime,-assets."))
        if limit:
            options.append(click.option("--limit", type=click.IntRange(min=1), help=limit))
        decorated: Any = wrapper
        for option in reversed(options):
            decorated = option(decorated)
        return decorated

    return decorate(function) if function is not None else decorate


def select_items(store: CatalogStore, query: Query, limit: int | None = None) -> Iterator[dict[str, Any]]:
    """The items a query selects, in its sort order (unknown collections raise NotFound, exit 3)."""
    from catalog.search import check_collections, iter_items

    check_collections(store, query)
    items = iter_items(store, query, page_size=query.limit)
    if limit is None:
        return items
    return (item for _, item in zip(range(limit), items, strict=False))


# -- harvest -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class HarvestArgs:
    """What ``harvest_options`` passes a harvest command."""

    area: Any  # shapely geometry, or None for everywhere
    window: tuple[str, str]  # canonical; start inclusive, end exclusive
    restart: bool


def harvest_window(datetime_: str | None, start: str | None = None, end: str | None = None) -> tuple[str, str]:
    """The harvest window (start inclusive, end exclusive) from ``--datetime`` or the old ``--start/--end``.

    A date-only end is the whole day; an RFC 3339 end given with ``--datetime`` is inclusive, one
    given with the old ``--end`` exclusive (as it always was).
    """
    from catalog.timeutil import canonical_strict

    if datetime_ and (start or end):
        raise InvalidQuery("give --datetime, or --start/--end, not both")
    if datetime_:
        parts = datetime_.strip().split("/")
        if len(parts) != 2 or any(part in ("", "..") for part in parts):
            raise InvalidQuery(f"--datetime {datetime_!r}: a harvest needs START/END, both given")
        start, end = parts
        inclusive_end = True
    elif not (start and end):
        raise InvalidQuery("give the time to harvest: --datetime START/END (dates mean whole UTC days)")
    else:
        inclusive_end = False
    first = _day(start, end=False) if _DATE.match(start) else start
    last = _day(end, end=True) if _DATE.match(end) else end
    first, last = canonical_strict(first), canonical_strict(last)
    if _DATE.match(end) or inclusive_end:
        last = _exclusive_end(last)
    if first >= last:
        raise InvalidQuery(f"the start {start} is not before the end {end}")
    return first, last


def harvest_area(bbox: str | None, intersects: str | None) -> Any:
    """The harvest area as a shapely geometry (None for everywhere)."""
    from catalog.geo import SpatialFilter, parse_bbox

    if bbox and intersects:
        raise InvalidQuery("give --bbox or --intersects, not both")
    if bbox:
        return SpatialFilter.from_bbox(parse_bbox(bbox)).geometry
    if intersects:
        return SpatialFilter.from_geojson(read_geometry(intersects)).geometry
    return None


def harvest_options(function: F | None = None, *, area: bool = True) -> Any:
    """The shared harvest options; the command receives ``harvest`` (a :class:`HarvestArgs`).

    ``--aoi`` is an alias of ``--intersects``; the hidden ``--start/--end`` of earlier versions still work.
    """

    def decorate(command: F) -> F:
        @functools.wraps(command)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            bbox, intersects = kwargs.pop("bbox", None), kwargs.pop("intersects", None)
            window = harvest_window(kwargs.pop("datetime_"), kwargs.pop("start"), kwargs.pop("end"))
            kwargs["harvest"] = HarvestArgs(harvest_area(bbox, intersects), window, kwargs.pop("restart"))
            return command(*args, **kwargs)

        options = []
        if area:
            options += [
                click.option("--bbox", metavar="W,S,E,N", help="Area W,S,E,N (W > E crosses the antimeridian)."),
                click.option(
                    "--intersects",
                    "--aoi",
                    "intersects",
                    metavar="GEOJSON",
                    help="Area: a GeoJSON geometry, Feature or FeatureCollection, inline or a file (alias --aoi).",
                ),
            ]
        options += [
            click.option(
                "--datetime",
                "datetime_",
                metavar="START/END",
                help="Time to harvest; dates (YYYY-MM-DD) mean whole UTC days, e.g. 2025-06-01/2025-06-30.",
            ),
            click.option("--start", hidden=True, help="Deprecated: use --datetime START/END."),
            click.option("--end", hidden=True, help="Deprecated: use --datetime START/END."),
            click.option("--restart", is_flag=True, help="Forget finished windows and harvest everything again."),
            format_option("table", "json", help="table: a summary on stderr; json: the report on stdout too."),
            json_alias,
        ]
        decorated: Any = wrapper
        for option in reversed(options):
            decorated = option(decorated)
        return decorated

    return decorate(function) if function is not None else decorate


def finish_harvest(ctx: click.Context, store: CatalogStore, report: Any, output: str) -> None:
    """Print a harvest report (JSON on stdout when asked, the summary on stderr); exit 1 on shortfalls."""
    from indexer.harvest import print_summary

    store.optimize()
    if wants_json(ctx, output):
        echo_json(report.as_dict())
    print_summary(report, err)
    if report.shortfalls:  # malformed upstream records are reported, not fatal; gaps are
        ctx.exit(EXIT_UPSTREAM)
