"""``eocat ard`` for catalogue items: fetch the SAFE files, build the DEM, run sarsen, write COGs, record items.

Per GRD item: the files sarsen needs (manifest, annotation, calibration and noise XML, measurement TIFF of
the wanted polarizations) come through the fetch layer — one file each through CDSE Nodes when the item
has a ``nodes`` asset, otherwise the whole product zip — into ``<out>/.safe/<name>.SAFE/``. Outputs go to
``<out>/<item id>/``; an output whose file exists and matches the size and checksum its stored ARD item
records is skipped.
"""

from __future__ import annotations

import json
import shutil
import zipfile
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any

from catalog.errors import EocatError
from catalog.fetch.names import sanitize
from processing.ard import terrain_correct, to_db, write_cog
from processing.dem import auto_dem, grid_for, read_dem_grid
from processing.items import ard_item, checksum_of

COLLECTION = "sentinel-1-ard"


def collection() -> dict[str, Any]:
    """The ``sentinel-1-ard`` collection document."""
    text = resources.files("processing").joinpath("collections/sentinel-1-ard.json").read_text()
    return dict(json.loads(text))


@dataclass
class ArdOptions:
    dem: str = "auto"
    measure: str = "gamma0_rtc"
    resolution: float = 20.0
    crs: str = "utm"
    db: bool = False
    polarizations: tuple[str, ...] = ()
    remove_noise: bool = True
    border: int = 2


@dataclass
class ArdReport:
    made: list[dict[str, Any]] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)
    failed: list[tuple[str, str]] = field(default_factory=list)
    seconds: dict[str, float] = field(default_factory=dict)


def _footprint(item: dict[str, Any]) -> list[tuple[float, float]]:
    geometry = item.get("geometry") or {}
    if geometry.get("type") != "Polygon":
        raise EocatError(f"{item['id']}: a GRD footprint must be a Polygon, not {geometry.get('type')}")
    return [(float(x), float(y)) for x, y, *_ in geometry["coordinates"][0]]


def _needed(paths: list[str], polarizations: tuple[str, ...]) -> list[str]:
    def wanted(path: str) -> bool:
        if any(sanitize(part) != part for part in path.split("/")):
            return False  # a server-supplied name that would leave the SAFE directory or is not a plain name
        if path == "manifest.safe":
            return True
        name = path.rsplit("/", 1)[-1].lower()
        top = path.split("/", 1)[0]
        if top not in ("annotation", "measurement") or "-grd-" not in name:
            return False
        return any(f"-grd-{p.lower()}-" in name for p in polarizations)

    return [p for p in paths if wanted(p)]


def fetch_safe(store: Any, item: dict[str, Any], polarizations: tuple[str, ...], work: Path) -> Path:
    """The product's SAFE directory with (at least) the files for ``polarizations``, through the fetch layer."""
    from catalog.fetch import fetch_items, new_session

    name = str(item.get("properties", {}).get("title") or item["id"])
    name = name if name.endswith(".SAFE") else f"{item['id']}.SAFE"
    root = work / name
    session = new_session()
    try:
        nodes = item.get("assets", {}).get("nodes")
        if nodes and nodes.get("href"):
            from indexer.fetchers.cdse import node_files

            paths = _needed(sorted(node_files(session, str(nodes["href"]), None)), polarizations)
            if not any(p.startswith("measurement/") for p in paths):
                raise EocatError(f"{item['id']}: no {'/'.join(polarizations)} measurement in the product tree")
            for path in paths:
                dest = root / path.rsplit("/", 1)[0] if "/" in path else root
                if (dest / path.rsplit("/", 1)[-1]).exists():
                    continue
                report = fetch_items(store, [item], node=path, dest=dest, jobs=1, session=session)
                for result in report.failed:
                    raise EocatError(f"{item['id']}: fetching {path} failed: {result.error}")
            return root
        report = fetch_items(store, [item], asset="product", dest=work / ".zips", jobs=1, session=session)
        for result in report.failed:
            raise EocatError(f"{item['id']}: fetching the product failed: {result.error}")
        archive = next(r.path for r in report.results if r.path is not None)
        return extract_safe(archive, work, item["id"])
    finally:
        session.close()


def extract_safe(archive: Path, work: Path, item_id: str) -> Path:
    """Unpack the one ``*.SAFE/`` directory of a product zip into ``work``; refuses paths that leave it."""
    with zipfile.ZipFile(archive) as zf:
        members = [m for m in zf.namelist() if ".SAFE/" in m and not m.endswith("/")]
        if not members:
            raise EocatError(f"{item_id}: the product zip holds no .SAFE directory")
        safe_name = members[0].split("/", 1)[0]
        for member in members:
            top, _, rest = member.partition("/")
            rel = Path(rest)
            if top != safe_name or not top.endswith(".SAFE") or rel.is_absolute() or ".." in rel.parts:
                raise EocatError(f"{item_id}: unsafe path {member!r} in the product zip")
            target = work / safe_name / rel
            target.parent.mkdir(parents=True, exist_ok=True)
            with zf.open(member) as src, target.open("wb") as dst:
                shutil.copyfileobj(src, dst)
    return work / safe_name


def _polarizations(item: dict[str, Any], wanted: tuple[str, ...]) -> tuple[str, ...]:
    available = tuple(p.upper() for p in item.get("properties", {}).get("sar:polarizations") or ())
    if not wanted:
        return available or ("VV",)
    missing = [p for p in wanted if available and p.upper() not in available]
    if missing:
        raise EocatError(f"{item['id']} has polarizations {', '.join(available)}, not {', '.join(missing)}")
    return tuple(p.upper() for p in wanted)


def _verified(store: Any, item_id: str, path: Path) -> bool:
    from catalog.errors import NotFound

    if not path.exists():
        return False
    try:
        stored = store.get_item(COLLECTION, item_id)
    except NotFound:
        return False
    asset = stored.get("assets", {}).get("backscatter", {})
    return bool(asset.get("file:size") == path.stat().st_size and asset.get("file:checksum") == checksum_of(path))


def process_item(store: Any, item: dict[str, Any], options: ArdOptions, out: Path, report: ArdReport) -> None:
    """Every output of one GRD item (skipping the ones that exist and verify)."""
    pols = _polarizations(item, options.polarizations)
    suffix = f"{options.measure}{'_db' if options.db else ''}"
    outputs = {p: out / item["id"] / f"{item['id']}_{p}_{suffix}.tif" for p in pols}
    ids = {p: f"{item['id']}_{p}_{suffix}" for p in pols}
    todo = [p for p in pols if not _verified(store, ids[p], outputs[p])]
    report.skipped += [ids[p] for p in pols if p not in todo]
    if not todo:
        return
    safe = fetch_safe(store, item, tuple(todo), out / ".safe")
    footprint = _footprint(item)
    if options.dem == "auto":
        grid = grid_for(footprint, options.crs, options.resolution)
        dem_path, dem_note = auto_dem(footprint, grid, out / ".dem", store)
    else:
        dem_path = Path(options.dem)
        if not dem_path.exists():
            raise EocatError(f"--dem {dem_path}: no such file")
        grid = read_dem_grid(dem_path)
        dem_note = f"user DEM {dem_path.name} (ellipsoidal heights)"
    mask_path = out / item["id"] / f"{item['id']}_mask.tif"
    for pol in todo:
        result = terrain_correct(safe, pol, dem_path, options.measure, options.remove_noise, options.border)
        values = to_db(result.values) if options.db else result.values
        write_cog(outputs[pol], values, grid.crs, grid.transform, float("nan"))
        if not mask_path.exists():
            write_cog(mask_path, result.mask, grid.crs, grid.transform, None)
        made = ard_item(item, pol, options, grid, outputs[pol], mask_path, dem_note, ids[pol])
        store.upsert_items([made], mode="replace", collections=lambda _: collection())
        report.made.append(made)
        report.seconds[ids[pol]] = result.seconds
