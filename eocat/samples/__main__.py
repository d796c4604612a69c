"""``python -m eocat.samples --count N --out items.ndjson [--collections-out c.ndjson]``."""

from __future__ import annotations

import sys
from collections.abc import Sequence

import orjson

from eocat.samples.generate import write_ndjson
from eocat.samples.stac_collections import collections
from eocat.samples.vocabulary import KINDS


def main(argv: Sequence[str] | None = None) -> int:
    """``python -m eocat.samples --count N --out items.ndjson [--collections-out c.ndjson]``."""
    import argparse

    parser = argparse.ArgumentParser(description="Write deterministic synthetic Sentinel-like STAC items as NDJSON.")
    parser.add_argument("--count", type=int, default=10_000, help="number of items")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--kinds", default=",".join(KINDS), help=f"comma-separated subset of {','.join(KINDS)}")
    parser.add_argument("--out", required=True, help="NDJSON file for the items")
    parser.add_argument("--collections-out", help="NDJSON file for the collections")
    args = parser.parse_args(argv)
    written = write_ndjson(args.out, args.count, args.seed, tuple(args.kinds.split(",")))
    if args.collections_out:
        with open(args.collections_out, "wb") as out:
            out.writelines(orjson.dumps(collection) + b"\n" for collection in collections())
    print(f"wrote {written} synthetic items to {args.out}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
