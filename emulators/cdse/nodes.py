"""The OData Nodes tree of a product: real-looking SAFE layouts with deterministic file sizes and bytes.

``GET …/Products(<id>)/Nodes`` lists the root, ``…/Nodes(<a>)/Nodes(<b>)/Nodes`` lists a directory (a file
lists as ``[]``), and ``…/Nodes(<a>)/…/Nodes(<file>)/$value`` serves one file: on the catalogue host it
redirects (307) to the download host, which wants a Bearer token (or ``?token=``) and honours the
emulator's Range mode. Listing needs no auth, as documented.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Mapping
from dataclasses import dataclass
from functools import lru_cache
from typing import TYPE_CHECKING

from emulators.cdse import errors
from emulators.streamfaults import deterministic_chunks

if TYPE_CHECKING:
    from emulators.cdse.app import CdseApp, Response

_NODE = re.compile(r"/Nodes\(([^)/]+)\)")


@dataclass(frozen=True)
class Node:
    """A directory (``children`` not None) or a file of ``size`` bytes."""

    name: str
    size: int = 0
    children: tuple[Node, ...] | None = None

    def child(self, name: str) -> Node | None:
        return next((c for c in self.children or () if c.name == name), None)


def _size(seed: str, low: int, high: int) -> int:
    return low + int(hashlib.blake2b(seed.encode(), digest_size=8).hexdigest(), 16) % (high - low + 1)


def _dir(name: str, *children: Node) -> Node:
    return Node(name, 0, tuple(children))


def _file(pid: str, path: str, low: int, high: int) -> Node:
    return Node(path.rsplit("/", 1)[-1], _size(f"{pid}/{path}", low, high))


def _s2(pid: str, name: str) -> Node:
    parts = name.removesuffix(".SAFE").split("_")
    level = "L2A" if "L2A" in parts[1] else "L1C"
    tile, when = parts[5], parts[2]
    granule = f"{level}_{tile}_A0{_size(pid, 10000, 99999)}_{when}"
    base = f"{name}/GRANULE/{granule}"

    def f(rel: str, low: int, high: int) -> Node:
        return _file(pid, f"{name}/{rel}", low, high)

    if level == "L2A":
        bands = {
            "R10m": ["B02", "B03", "B04", "B08", "AOT", "WVP", "TCI"],
            "R20m": ["B01", "B02", "B03", "B04", "B05", "B06", "B07", "B8A", "B11", "B12", "AOT", "WVP", "SCL", "TCI"],
            "R60m": ["B01", "B02", "B03", "B04", "B05", "B06", "B07", "B8A", "B09", "B11", "B12", "AOT", "WVP", "SCL"],
        }
        sizes = {"R10m": (1_500_000, 3_000_000), "R20m": (300_000, 800_000), "R60m": (40_000, 120_000)}
        img = _dir(
            "IMG_DATA",
            *(
                _dir(
                    res,
                    *(_file(pid, f"{base}/IMG_DATA/{res}/{tile}_{when}_{b}_{res[1:]}.jp2", *sizes[res]) for b in names),
                )
                for res, names in bands.items()
            ),
        )
        qi = _dir(
            "QI_DATA",
            *(
                f(f"GRANULE/{granule}/QI_DATA/{m}", 20_000, 90_000)
                for m in ("MSK_CLDPRB_20m.jp2", "MSK_SNWPRB_20m.jp2", "MSK_CLASSI_B00.jp2")
            ),
        )
    else:
        img = _dir(
            "IMG_DATA",
            *(
                _file(pid, f"{base}/IMG_DATA/{tile}_{when}_{b}.jp2", 300_000, 2_000_000)
                for b in (
                    "B01",
                    "B02",
                    "B03",
                    "B04",
                    "B05",
                    "B06",
                    "B07",
                    "B08",
                    "B8A",
                    "B09",
                    "B10",
                    "B11",
                    "B12",
                    "TCI",
                )
            ),
        )
        qi = _dir("QI_DATA", f(f"GRANULE/{granule}/QI_DATA/MSK_CLASSI_B00.jp2", 20_000, 90_000))
    granule_dir = _dir(
        granule,
        img,
        qi,
        _dir("AUX_DATA", f(f"GRANULE/{granule}/AUX_DATA/AUX_CAMSFO", 9_000, 30_000)),
        f(f"GRANULE/{granule}/MTD_TL.xml", 20_000, 60_000),
    )
    datastrip = f"DS_2BPS_{parts[6]}_S{when}"
    return _dir(
        name,
        _dir("AUX_DATA"),
        _dir("DATASTRIP", _dir(datastrip, f(f"DATASTRIP/{datastrip}/MTD_DS.xml", 100_000, 400_000))),
        _dir("GRANULE", granule_dir),
        _dir("HTML", f("HTML/UserProduct_index.html", 10_000, 20_000)),
        f("INSPIRE.xml", 10_000, 20_000),
        f(f"MTD_MSI{level}.xml", 40_000, 80_000),
        _dir("rep_info", f(f"rep_info/S2_User_Product_Level-{level[1:]}_Metadata.xsd", 5_000, 9_000)),
        f("manifest.safe", 30_000, 70_000),
        f(f"{name.removesuffix('.SAFE')}-ql.jpg", 50_000, 150_000),
    )


def _s1(pid: str, name: str) -> Node:
    stem = name.removesuffix(".SAFE")
    parts = stem.split("_")
    mission, mode = parts[0].lower(), parts[1].lower()
    pols = {"SV": ["vv"], "DV": ["vv", "vh"], "SH": ["hh"], "DH": ["hh", "hv"]}.get(parts[3][-2:], ["vv"])
    slc = "SLC" in parts[2]
    swaths = [f"{mode}{i}" for i in (1, 2, 3)] if slc else [mode]
    kind = "slc" if slc else "grd"
    tail = f"{parts[4].lower()}-{parts[5].lower()}-{parts[6].lower()}-{parts[7].lower()}"
    files = [
        (sw, pol, f"{mission}-{sw}-{kind}-{pol}-{tail}-{n:03d}")
        for n, (sw, pol) in enumerate(((sw, pol) for sw in swaths for pol in pols), start=1)
    ]
    high = 1_200_000 if slc else 800_000

    def f(rel: str, low: int, hi: int) -> Node:
        return _file(pid, f"{name}/{rel}", low, hi)

    return _dir(
        name,
        _dir(
            "annotation",
            *(f(f"annotation/{b}.xml", 200_000, 900_000) for _, _, b in files),
            _dir(
                "calibration",
                *(
                    f(f"annotation/calibration/{k}-{b}.xml", 50_000, 300_000)
                    for _, _, b in files
                    for k in ("calibration", "noise")
                ),
            ),
        ),
        _dir("measurement", *(f(f"measurement/{b}.tiff", high // 2, high) for _, _, b in files)),
        _dir("preview", f("preview/quick-look.png", 50_000, 150_000), f("preview/map-overlay.kml", 1_000, 2_000)),
        _dir("support", f("support/s1-level-1-product.xsd", 20_000, 40_000)),
        f("manifest.safe", 20_000, 40_000),
    )


def tree_of_files(name: str, files: Mapping[str, bytes]) -> Node:
    """The node tree of a product whose files are known (path below the root → bytes)."""

    def build(dirname: str, paths: list[str], prefix: str) -> Node:
        direct = sorted(p for p in paths if "/" not in p)
        subdirs = sorted({p.split("/", 1)[0] for p in paths if "/" in p})
        children = [build(d, [p.split("/", 1)[1] for p in paths if p.startswith(d + "/")], f"{prefix}{d}/")
                    for d in subdirs]  # fmt: skip
        children += [Node(f, len(files[prefix + f])) for f in direct]
        return Node(dirname, 0, tuple(children))

    return build(name, list(files), "")


@lru_cache(maxsize=512)
def tree(pid: str, name: str) -> Node:
    """The node tree of product ``pid`` named ``name`` (SAFE layouts for S1/S2; a manifest otherwise)."""
    if name.startswith("S2") and "_MSIL" in name:
        return _s2(pid, name)
    if name.startswith("S1") and name.endswith(".SAFE") and len(name.split("_")) >= 8:
        return _s1(pid, name)
    return _dir(name, _file(pid, f"{name}/manifest.xml", 5_000, 20_000))


def walk(root: Node, names: list[str]) -> Node | None:
    """The node at ``names`` (the first is the root's own name)."""
    if not names or names[0] != root.name:
        return None
    node: Node | None = root
    for name in names[1:]:
        node = node.child(name) if node is not None else None
    return node


def handle(
    app: CdseApp, method: str, query: str, headers: Mapping[str, str], host: str, pid: str, path: str, tail: str
) -> Response:
    """A Nodes listing (``tail == "Nodes"``) or a node's bytes (``tail == "$value"``)."""
    from emulators.cdse.app import Response, json_response

    product = app.store.get(pid)
    if product is None:
        raise errors.detail(404, "Product not found in catalogue")
    real = getattr(product, "safe", None)  # a GRD with real content (emulators/cdse/grd)
    root = tree_of_files(product.name, real.files) if real is not None else tree(product.id, product.name)
    names = _NODE.findall(path)
    base = f"{app.download_url}/Products({product.id})"
    if tail == "Nodes":
        if not names:
            children: tuple[Node, ...] = (root,)
        else:
            node = walk(root, names)
            if node is None:
                raise errors.detail(404, "Not Found")
            children = node.children or ()
        prefix = base + "".join(f"/Nodes({n})" for n in names)
        listed = [
            {
                "Id": c.name,
                "Name": c.name,
                "ContentLength": c.size,
                "ChildrenNumber": len(c.children or ()),
                "Nodes": {"uri": f"{prefix}/Nodes({c.name})/Nodes"},
            }
            for c in children
        ]
        return json_response(200, {"result": listed})
    node = walk(root, names)
    if node is None or node.children is not None:
        raise errors.detail(404, "Invalid odata path")
    if host == "":
        location = base + path + "/$value" + (f"?{query}" if query else "")
        return Response(307, b"", {"Location": location, "Content-Type": "text/plain"})
    app.authorize(headers, query)
    key = f"{product.id}/{'/'.join(names)}"
    data = real.files["/".join(names[1:])] if real is not None else None
    return app.ranged(
        f"/nodes/{key}",
        node.size,
        (lambda start, stop: iter([data[start:stop]]))
        if data is not None
        else (lambda start, stop: deterministic_chunks(key, node.size, start, stop)),
        headers,
        {"Content-Type": "application/octet-stream"},
    )


def content(pid: str, path: str, size: int) -> bytes:
    """The whole content of a node file (for tests): ``path`` is the path below the product."""
    return b"".join(deterministic_chunks(f"{pid}/{path}", size))
