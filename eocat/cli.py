"""The ``eocat`` command line: the command tree, assembled from the ``eocat/cli_*.py`` modules.

Results go to stdout; messages and summaries go to stderr, so ``--format ndjson`` output can be
piped. Shared options, store opening and error handling live in :mod:`eocat.options`; command
modules import that, never this module. A new command: write ``eocat/cli_<topic>.py`` and add
one ``main.add_command`` line here.
"""

from __future__ import annotations

import click

from eocat.cli_ard import ard, mosaic
from eocat.cli_bursts import harvest_asf_bursts, harvest_cdse_bursts, stack
from eocat.cli_core import collections, import_command, search
from eocat.cli_destine import harvest_destine, timescan_command
from eocat.cli_emulate import emulate
from eocat.cli_fetch import fetch_command
from eocat.cli_harvest import harvest
from eocat.cli_parquet import export, inventory, sql
from eocat.cli_pgstac import migrate
from eocat.cli_serve import serve
from eocat.options import EocatGroup, db_option, db_target

_EPILOG = """\b
Exit codes: 0 success; 1 upstream or I/O failure (or rejected records); 2 bad input;
3 not found (collection, item, file, catalogue). EOCAT_DEBUG=1 shows tracebacks."""


@click.group(cls=EocatGroup, context_settings={"help_option_names": ["-h", "--help"]}, epilog=_EPILOG)
@db_option
@click.pass_context
def main(ctx: click.Context, db: str) -> None:
    """eocat: one STAC catalogue over Copernicus / Sentinel portals."""
    ctx.obj = db_target(db)


main.add_command(import_command)
main.add_command(search)
main.add_command(collections)
main.add_command(harvest)
harvest.add_command(harvest_cdse_bursts)
harvest.add_command(harvest_asf_bursts)
harvest.add_command(harvest_destine)
main.add_command(emulate)
main.add_command(fetch_command)
main.add_command(timescan_command)
main.add_command(stack)
main.add_command(export)
main.add_command(sql)
main.add_command(inventory)
main.add_command(serve)
main.add_command(ard)
main.add_command(mosaic)
main.add_command(migrate)
