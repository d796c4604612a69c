"""``eocat inventory --plot``: footprints over the AOI (left) and a coverage timeline (right)."""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Any

import shapely
from shapely.geometry.base import BaseGeometry

from catalog.parquet.inventory import FULL_COVERAGE, Inventory

MAX_GROUPS = 12


def _draw(ax: Any, geometry: BaseGeometry, *, outline: Any = None, **style: Any) -> None:
    for index, polygon in enumerate(getattr(geometry, "geoms", [geometry])):
        if isinstance(polygon, shapely.Polygon) and not polygon.is_empty:
            x, y = polygon.exterior.xy
            ax.fill(x, y, **(style if index == 0 else {k: v for k, v in style.items() if k != "label"}))
            if outline:
                ax.plot(x, y, color=outline, linewidth=1.0)


def plot_inventory(inventory: Inventory, path: str | Path, *, title: str = "") -> Path:
    """Write a PNG: left, the AOI and each group's merged footprints; right, coverage per date and group."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib import cm, colors

    groups = inventory.groups[:MAX_GROUPS]
    figure, (map_ax, time_ax) = plt.subplots(1, 2, figsize=(14, 6), gridspec_kw={"width_ratios": [1, 1.4]})
    palette = plt.get_cmap("tab10" if len(groups) <= 10 else "tab20")
    for index, group in enumerate(groups):
        union = shapely.union_all([p.footprint for p in group.passes])
        color = palette(index % palette.N)
        _draw(map_ax, union, outline=color, alpha=0.2, color=color, label=group.label)
    _draw(map_ax, inventory.aoi, facecolor="none", edgecolor="black", linewidth=2.0, label="AOI")
    minx, miny, maxx, maxy = inventory.aoi.bounds
    pad_x, pad_y = max((maxx - minx) * 0.6, 0.2), max((maxy - miny) * 0.6, 0.2)
    map_ax.set_xlim(minx - pad_x, maxx + pad_x)
    map_ax.set_ylim(miny - pad_y, maxy + pad_y)
    map_ax.set_xlabel("longitude")
    map_ax.set_ylabel("latitude")
    map_ax.set_title("footprints by group (merged passes) and AOI")
    map_ax.legend(fontsize=7, loc="upper left")
    norm = colors.Normalize(0, 1)
    cmap = plt.get_cmap("viridis")
    for row, group in enumerate(groups):
        days = [date.fromisoformat(p.date) for p in group.passes]
        values = [p.coverage for p in group.passes]
        time_ax.scatter(days, [row] * len(days), c=values, cmap=cmap, norm=norm, s=36,
                        edgecolors=["red" if v >= FULL_COVERAGE else "none" for v in values])  # fmt: skip
    time_ax.set_yticks(range(len(groups)), [f"{g.label} ({len(g.full_dates)} full)" for g in groups], fontsize=8)
    time_ax.set_ylim(len(groups) - 0.5, -0.5)
    time_ax.set_title("AOI coverage per acquisition date (red ring: full)")
    time_ax.grid(axis="x", alpha=0.3)
    figure.colorbar(cm.ScalarMappable(norm=norm, cmap=cmap), ax=time_ax, label="coverage of the AOI")
    figure.autofmt_xdate()
    best = inventory.best
    figure.suptitle(title or (f"inventory: {inventory.items} items, best group {best.label}" if best else "inventory"))
    figure.tight_layout()
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    figure.savefig(target, dpi=100)
    plt.close(figure)
    return target
