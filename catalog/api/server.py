"""Running the API: configuration from the environment (so uvicorn workers can build the app) and uvicorn.

Variables: ``EOCAT_DB`` (catalogue file), ``EOCAT_API_BASE_URL`` (public base URL for every link),
``EOCAT_BROWSER_DIR`` (a STAC Browser build), ``EOCAT_ASSET_DIR`` (the asset store, as for ``eocat fetch``;
default ``assets/`` beside the catalogue) and ``EOCAT_API_MATERIALIZER`` (``module:function``, a
:data:`catalog.api.assets.Materializer`; default :func:`catalog.fetch.store_materializer`, ``none`` disables).
"""

from __future__ import annotations

import importlib
import os
from pathlib import Path
from typing import Any

from starlette.applications import Starlette

from catalog.api.app import MAX_REQUEST_HEAD_BYTES, ApiConfig, create_app
from catalog.api.assets import Materializer
from catalog.errors import EocatError
from catalog.fetch import store_materializer

BROWSER_CACHE = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "eocat"


def find_browser_dir() -> Path | None:
    """The newest STAC Browser build in the cache (see browser/build.sh), or None."""
    builds = sorted(BROWSER_CACHE.glob("stac-browser-*/dist/index.html"), key=lambda path: path.stat().st_mtime)
    return builds[-1].parent if builds else None


def load_materializer(spec: str) -> Materializer:
    """Import ``module:function``; raise EocatError with what to fix."""
    module_name, _, attribute = spec.partition(":")
    try:
        function: Any = getattr(importlib.import_module(module_name), attribute)
    except (ImportError, AttributeError, ValueError) as exc:
        raise EocatError(f"cannot load the asset materializer {spec!r} (expected module:function): {exc}") from None
    if not callable(function):
        raise EocatError(f"the asset materializer {spec!r} is not callable")
    materializer: Materializer = function
    return materializer


def config_from_env() -> ApiConfig:
    browser = os.environ.get("EOCAT_BROWSER_DIR")
    from catalog.backend import is_pgstac

    raw = os.environ.get("EOCAT_DB", "data/eocat.db")
    db_path: Path | str = raw if is_pgstac(raw) else Path(raw)
    home = Path("data") if isinstance(db_path, str) else db_path.parent
    spec = os.environ.get("EOCAT_API_MATERIALIZER", "")
    materializer = store_materializer(db_path) if not spec else None if spec == "none" else load_materializer(spec)
    return ApiConfig(
        db_path=db_path,
        base_url=os.environ.get("EOCAT_API_BASE_URL") or None,
        browser_dir=Path(browser) if browser else find_browser_dir(),
        assets_dir=Path(os.environ.get("EOCAT_ASSET_DIR") or home / "assets"),
        materializer=materializer,
    )


def app_from_env() -> Starlette:
    """Application factory for ``uvicorn --factory catalog.api.server:app_from_env``."""
    return create_app(config_from_env())


def serve(host: str, port: int, workers: int, *, log_level: str = "info") -> None:
    """Run uvicorn over the configuration in the environment (blocks until stopped)."""
    import uvicorn

    uvicorn.run(
        "catalog.api.server:app_from_env",
        factory=True,
        host=host,
        port=port,
        workers=workers,
        log_level=log_level,
        proxy_headers=True,
        access_log=False,
        h11_max_incomplete_event_size=MAX_REQUEST_HEAD_BYTES,
    )
