"""``fetch`` / ``fetch_items``: materialize catalogue assets into the local asset store and record them."""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, cast
from urllib.parse import unquote, urlsplit

from catalog.errors import EocatError, NotFound
from catalog.fetch import registry
from catalog.fetch.errors import Missing, NotFetchable, VerificationFailed
from catalog.fetch.files import Layout, PartFile
from catalog.fetch.hosts import HostLimits
from catalog.fetch.http import http_step
from catalog.fetch.job import Job, Step
from catalog.fetch.names import choose_name
from catalog.fetch.progress import Reporter
from catalog.fetch.session import FetchSession
from catalog.fetch.verify import DEFAULT_ALGORITHM, multihash, parse_multihash
from catalog.search import Query, iter_items
from catalog.stac import EXTENSIONS
from catalog.store import Store

ALTERNATE_EXTENSION = EXTENSIONS["alternate"]
FILE_EXTENSION = EXTENSIONS["file"]


@dataclass
class FetchResult:
    """The outcome for one asset: ``fetched`` (bytes moved), ``cached`` (already local) or ``failed``."""

    item_id: str
    collection: str
    asset: str
    status: str
    path: Path | None = None
    size: int = 0
    checksum: str | None = None
    transferred: int = 0
    resumed_from: int = 0
    error: str | None = None
    missing: bool = False  # the upstream answered that the file does not exist (404/410)


@dataclass
class FetchReport:
    """Every result of a run, in completion order, and the wall time."""

    results: list[FetchResult] = field(default_factory=list)
    elapsed: float = 0.0

    def count(self, status: str) -> int:
        return sum(1 for r in self.results if r.status == status)

    @property
    def transferred(self) -> int:
        return sum(r.transferred for r in self.results)

    @property
    def failed(self) -> list[FetchResult]:
        return [r for r in self.results if r.status == "failed"]


def asset_root(store: Store) -> Path:
    """The local asset store: ``$EOCAT_ASSET_DIR`` or ``assets/`` next to the catalogue file (absolute,
    as the local copies recorded in the catalogue are)."""
    configured = os.environ.get("EOCAT_ASSET_DIR")
    home = store.path.parent if hasattr(store, "path") else Path("data")  # pgstac: no file, ./data
    return (Path(configured) if configured else home / "assets").absolute()


def new_session(reporter: Reporter | None = None, **kwargs: Any) -> FetchSession:
    """A session with every registered authenticator and host limit."""
    registry.load_plugins()
    limits = HostLimits()
    for contribute in registry.HOST_LIMITS:
        limits.add_source(contribute)
    return FetchSession(limits=limits, reporter=reporter, auth_factories=registry.AUTH, **kwargs)


def find_item(store: Store, item_id: str, collection: str | None = None) -> dict[str, Any]:
    """The stored item with this id (``collection`` disambiguates an id found in several)."""
    query = Query.parse(ids=[item_id], collections=[collection] if collection else None, limit=10)
    found = list(iter_items(store, query, page_size=10))
    if not found:
        raise NotFound(f"no item {item_id!r} in the catalogue{f' collection {collection!r}' if collection else ''}")
    if len(found) > 1:
        names = ", ".join(sorted(str(i.get("collection")) for i in found))
        raise EocatError(f"item {item_id!r} exists in several collections ({names}); choose one with collection=")
    return found[0]


def fetch(
    store: Store,
    item_id: str,
    asset: str | Sequence[str] | None = None,
    dest: str | Path | None = None,
    *,
    collection: str | None = None,
    node: str | None = None,
    jobs: int = 4,
    reporter: Reporter | None = None,
    session: FetchSession | None = None,
) -> FetchReport:
    """Materialize assets of one item (default: its ``data`` assets) and record the local copies.

    ``asset`` names one or more asset keys; a key the item lacks (e.g. ``SCL``) or a ``node`` glob
    pattern is resolved by provider resolvers (CDSE: a file inside the product, through Nodes).
    ``dest`` puts the files in that directory instead of the asset store. Failures are reported in
    the returned report, not raised; use :func:`fetch_one` to get an exception instead.
    """
    item = find_item(store, item_id, collection)
    return fetch_items(store, [item], asset=asset, node=node, dest=dest, jobs=jobs, reporter=reporter, session=session)


def fetch_one(store: Store, item_id: str, asset: str | None = None, **kwargs: Any) -> Path:
    """Fetch a single asset and return its local path; raise the error if it failed."""
    report = fetch(store, item_id, asset, **kwargs)
    for result in report.results:
        if result.status == "failed":
            raise _error_of(result)
    paths = [r.path for r in report.results if r.path is not None]
    if len(paths) != 1:
        raise NotFetchable(f"{item_id}: expected one asset, got {len(paths)}; name one with asset=")
    return paths[0]


def store_materializer(db_path: str | Path) -> Callable[[dict[str, Any], str, Path], Path]:
    """The STAC API's on-demand materializer: fetch into the catalogue's asset store and record the copy.

    The API's per-job directory is ignored, so the API and ``eocat fetch`` share one asset store (and one
    cache): an asset fetched by either is served by both.
    """
    from catalog.backend import open_store

    def materialize(item: dict[str, Any], key: str, dest: Path) -> Path:
        with open_store(db_path) as store:
            return fetch_one(cast(Store, store), str(item["id"]), key, collection=item.get("collection"))

    return materialize


def _error_of(result: FetchResult) -> EocatError:
    error = result.error or "failed"
    kind = VerificationFailed if "quarantined" in error else EocatError
    return kind(f"{result.item_id} [{result.asset}]: {error}")


def fetch_items(
    store: Store,
    items: Iterable[dict[str, Any]],
    *,
    asset: str | Sequence[str] | None = None,
    node: str | None = None,
    dest: str | Path | None = None,
    jobs: int = 4,
    reporter: Reporter | None = None,
    session: FetchSession | None = None,
) -> FetchReport:
    """Fetch the selected assets of many items with a pool of ``jobs`` workers; record each local copy."""
    started = time.monotonic()
    owns = session is None
    session = session or new_session(reporter)
    root = asset_root(store)
    target_dir = Path(dest).absolute() if dest is not None else None
    report = FetchReport()
    try:
        targets: list[tuple[dict[str, Any], str]] = []
        for item in items:
            try:
                targets += [(item, key) for key in select_assets(item, asset, node, session)]
            except EocatError as exc:
                report.results.append(FetchResult(item["id"], str(item.get("collection")), str(asset), "failed",
                                                  error=str(exc)))  # fmt: skip
        _plan(targets, session, target_dir)
        with ThreadPoolExecutor(max_workers=max(1, jobs), thread_name_prefix="fetch") as pool:
            futures = [pool.submit(materialize, item, key, session, root, target_dir) for item, key in targets]
            for future in as_completed(futures):
                result, recorded = future.result()
                if recorded is not None:
                    record_local(store, result, recorded)
                report.results.append(result)
    finally:
        if owns:
            session.close()
    report.elapsed = time.monotonic() - started
    return report


def _plan(targets: list[tuple[dict[str, Any], str]], session: FetchSession, dest: Path | None) -> None:
    """Show each protocol's planner the assets of that protocol still to fetch (those not already local)."""
    by_protocol: dict[str, list[tuple[dict[str, Any], str]]] = {}
    for item, key in targets:
        asset = item["assets"][key]
        cached = local_copy(asset)
        if cached is not None and (dest is None or cached.parent == dest):
            continue
        by_protocol.setdefault(str(asset.get("eocat:protocol") or "http"), []).append((item, key))
    for protocol, planned in by_protocol.items():
        planner = registry.PLANNERS.get(protocol)
        if planner is not None:
            planner(planned, session)


def select_assets(
    item: dict[str, Any], asset: str | Sequence[str] | None, node: str | None, session: FetchSession
) -> list[str]:
    """The asset keys to fetch; unknown keys and node patterns go through the registered resolvers."""
    registry.load_plugins()
    assets: dict[str, Any] = item.setdefault("assets", {})
    wanted = [asset] if isinstance(asset, str) else list(asset or [])
    wanted = [k.strip() for w in wanted for k in w.split(",") if k.strip()]
    if node is not None:
        return [_resolve(item, wanted[0] if wanted else None, node, session)]
    if not wanted:
        keys = [k for k, a in assets.items() if "data" in (a.get("roles") or []) and _fetchable(a)]
        if not keys:
            raise NotFetchable(f"{item['id']}: no data asset; choose one of {sorted(assets)} with --asset")
        return keys
    return [key if key in assets else _resolve(item, key, None, session) for key in wanted]


def _resolve(item: dict[str, Any], key: str | None, pattern: str | None, session: FetchSession) -> str:
    for resolver in registry.RESOLVERS:
        found = resolver(item, key, pattern, session)
        if found is not None:
            new_key, new_asset = found
            item["assets"][new_key] = new_asset
            return new_key
    what = f"asset {key!r}" if pattern is None else f"a file matching {pattern!r}"
    raise NotFetchable(f"{item['id']}: no {what}; assets are {sorted(item['assets'])}")


def _fetchable(asset: dict[str, Any]) -> bool:
    return str(asset.get("href", "")).startswith(("http://", "https://"))


def local_copy(asset: dict[str, Any]) -> Path | None:
    """The recorded local copy of an asset, if it is still there with its recorded size."""
    local = (asset.get("alternate") or {}).get("local")
    if not isinstance(local, dict) or not str(local.get("href", "")).startswith("file://"):
        return None
    path = Path(unquote(urlsplit(local["href"]).path))
    try:
        size = path.stat().st_size
    except OSError:
        return None
    if local.get("file:size") not in (None, size) or asset.get("file:size") not in (None, size):
        return None
    return path


def materialize(
    item: dict[str, Any], key: str, session: FetchSession, root: Path, dest: Path | None
) -> tuple[FetchResult, dict[str, Any] | None]:
    """Fetch one asset; never raises an EocatError (it becomes a ``failed`` result)."""
    collection = str(item.get("collection") or "_")
    result = FetchResult(item["id"], collection, key, "failed")
    asset = item["assets"][key]
    layout = Layout.for_asset(root, collection, item["id"], key, dest)
    cached = local_copy(asset)
    if cached is not None and (dest is None or cached.parent == dest):
        local = asset["alternate"]["local"]
        result.status, result.path, result.size, result.checksum = (
            "cached",
            cached,
            cached.stat().st_size,
            local.get("file:checksum"),
        )
        return result, None
    try:
        step = _step_for(asset, key)
        expected = parse_multihash(str(asset["file:checksum"])) if asset.get("file:checksum") else None
        part = PartFile(layout.part, str(asset["href"]), expected.algorithm if expected else DEFAULT_ALGORITHM)
    except EocatError as exc:
        result.error = str(exc)
        return result, None
    bar = session.reporter.bar(f"{item['id'][:30]} {key}")
    result.resumed_from = part.size
    try:
        delivery = step(Job(item, key, asset, session, part, bar))
        result.transferred = part.size - part.resumed_from
        name = choose_name(
            disposition=delivery.disposition,
            local_path=asset.get("file:local_path"),
            href=str(asset["href"]),
            fallback=f"{item['id']}-{key}",
            media_type=asset.get("type") or delivery.media_type,
        )
        final = layout.final_path(name)
        problem = _mismatch(asset, part.size, part.algorithm, part.hexdigest())
        if problem is not None:
            where = part.quarantine(root if dest is None else dest, f"{item['id']}-{key}")
            raise VerificationFailed(f"{problem}; the download was quarantined in {where}, nothing was published")
        digest = multihash(part.algorithm, part.hexdigest())
        size = part.size
        part.publish(final)
    except EocatError as exc:
        part.discard_if_empty()
        result.error, result.missing = str(exc), isinstance(exc, Missing)
        return result, None
    except Exception as exc:  # an unexpected failure of one asset must not stop the others
        part.discard_if_empty()
        result.error = f"{type(exc).__name__}: {exc}"
        return result, None
    finally:
        bar.end()
    result.status, result.path, result.size, result.checksum = "fetched", final, size, digest
    return result, asset


def _step_for(asset: dict[str, Any], key: str) -> Step:
    if not _fetchable(asset):
        raise NotFetchable(f"asset {key!r} has no http(s) href")
    protocol = str(asset.get("eocat:protocol") or "http")
    registry.load_plugins()
    step = registry.STEPS.get(protocol)
    if step is None and protocol == "http":
        return http_step
    if step is None:
        raise NotFetchable(f"asset {key!r}: no step registered for eocat:protocol {protocol!r}")
    return step


def _mismatch(asset: dict[str, Any], size: int, algorithm: str, hexdigest: str) -> str | None:
    expected_size = asset.get("file:size")
    if isinstance(expected_size, int) and expected_size and size != expected_size:
        return f"size mismatch: got {size} bytes, the catalogue says {expected_size}"
    checksum = asset.get("file:checksum")
    if checksum:
        expected = parse_multihash(str(checksum))
        if expected is not None and expected.algorithm == algorithm and expected.digest != hexdigest:
            return f"checksum mismatch: got {multihash(algorithm, hexdigest)}, the catalogue says {checksum}"
    return None


def record_local(store: Store, result: FetchResult, asset: dict[str, Any]) -> None:
    """Record the local copy as ``alternate.local`` of the asset (alternate-assets extension)."""
    assert result.path is not None
    try:
        item = store.get_item(result.collection, result.item_id)
    except NotFound:
        return
    stored = dict(item["assets"].get(result.asset) or asset)
    alternate = dict(stored.get("alternate") or {})
    alternate["local"] = {
        "href": result.path.absolute().as_uri(),
        "title": "Local copy",
        "file:size": result.size,
        "file:checksum": result.checksum,
    }
    stored["alternate"] = alternate
    item["assets"][result.asset] = stored
    extensions = list(item.get("stac_extensions") or [])
    for url in (ALTERNATE_EXTENSION, FILE_EXTENSION):
        if not any(e.split("/v")[0] == url.split("/v")[0] for e in extensions):
            extensions.append(url)
    item["stac_extensions"] = extensions
    store.upsert_items([item], mode="replace")
