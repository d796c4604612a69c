"""``eocat serve``: the STAC API and STAC Browser over the catalogue file."""

from __future__ import annotations

import os
from pathlib import Path

import click

from catalog.errors import NotFound
from eocat.options import catalog_dir, catalog_target


@click.command("serve")
@click.option("--host", default="127.0.0.1", show_default=True, help="Interface to listen on.")
@click.option("--port", default=8000, show_default=True, type=int, help="Port to listen on.")
@click.option(
    "--base-url",
    default=None,
    envvar="EOCAT_API_BASE_URL",
    help="Public URL used for every link (behind a proxy); default: the URL of each request.",
)
@click.option("--workers", default=1, show_default=True, type=click.IntRange(1, 64), help="uvicorn worker processes.")
@click.option(
    "--browser-dir",
    type=click.Path(file_okay=False, path_type=Path),
    envvar="EOCAT_BROWSER_DIR",
    help="STAC Browser build to serve at /browser/ (default: the cached build of `make browser`).",
)
@click.option(
    "--assets-dir",
    type=click.Path(file_okay=False, path_type=Path),
    envvar="EOCAT_ASSET_DIR",
    help="The asset store that on-demand assets go to (default: assets/ beside the catalogue, as for eocat fetch).",
)
@click.pass_context
def serve(
    ctx: click.Context,
    host: str,
    port: int,
    base_url: str | None,
    workers: int,
    browser_dir: Path | None,
    assets_dir: Path | None,
) -> None:
    """Serve the catalogue as a STAC API, with STAC Browser at /browser/."""
    from catalog.api.server import find_browser_dir
    from catalog.api.server import serve as run

    target = catalog_target(ctx)
    if isinstance(target, Path) and not target.is_file():
        raise NotFound(f"no catalogue at {target}: harvest or import first, or pass --db")
    if browser_dir is not None and not (browser_dir / "index.html").is_file():
        raise NotFound(f"{browser_dir} is not a STAC Browser build (no index.html): run `make browser`")
    browser_dir = browser_dir or find_browser_dir()
    os.environ["EOCAT_DB"] = str(target.resolve() if isinstance(target, Path) else target)
    os.environ["EOCAT_ASSET_DIR"] = str((assets_dir or catalog_dir(ctx) / "assets").resolve())
    if base_url:
        os.environ["EOCAT_API_BASE_URL"] = base_url
    if browser_dir is not None:
        os.environ["EOCAT_BROWSER_DIR"] = str(browser_dir.resolve())
    shown = (base_url or f"http://{host}:{port}").rstrip("/")
    click.echo(f"STAC API at {shown}/  (catalogue {target})", err=True)
    click.echo(
        f"STAC Browser at {shown}/browser/" if browser_dir else "STAC Browser not built: run `make browser`", err=True
    )
    run(host, port, workers)
