"""SQLite helpers: sqlite-utils imported without its optional pandas support; numbered parameters.

``sqlite_utils.db`` imports pandas whenever it is installed (geopandas and stac-geoparquet bring it), only
to convert pandas values on insert, which eocat never does. That import cost every process ~65 MiB of
resident memory and ~0.17 s of start-up (measured: ``import catalog.fetch`` 123 → 56 MiB, 0.35 → 0.18 s),
so it is skipped here; pandas itself stays importable for everyone else.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from typing import Any

if "pandas" in sys.modules or "sqlite_utils" in sys.modules:
    import sqlite_utils
else:
    sys.modules["pandas"] = None  # type: ignore[assignment]  # `import pandas` raises ImportError meanwhile
    try:
        import sqlite_utils
    finally:
        del sys.modules["pandas"]

__all__ = ["binder", "sqlite_utils"]


def binder(params: list[Any]) -> Callable[[Any], str]:
    """A function that appends a value to ``params`` and returns its marker (``?N``): terms written in
    different places share one numbered parameter list."""

    def bind(value: Any) -> str:
        params.append(value)
        return f"?{len(params)}"

    return bind
