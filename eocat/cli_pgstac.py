"""CLI for moving a catalogue between backends: ``eocat migrate TARGET``."""

from __future__ import annotations

from pathlib import Path

import click

from catalog.errors import EocatError
from eocat.options import echo_json, format_option, open_catalog, wants_json


@click.command("migrate")
@click.argument("target")
@format_option("table", "json", help="table: a summary on stderr; json: the report on stdout too.")
@click.pass_context
def migrate(ctx: click.Context, target: str, output: str) -> None:
    """Copy the --db catalogue into TARGET (a postgresql:// URL or a SQLite file), and verify it.

    Streams collection by collection in id order; an interrupted copy resumes where it stopped.
    Ends by comparing item counts and a checksum of the item set: exit 1 if they differ.
    Passwords come from PGPASSWORD or ~/.pgpass, never from the URL.
    """
    from catalog.backend import is_pgstac, open_store
    from catalog.pgstac.transfer import copy_catalogue

    source = open_catalog(ctx, must_exist=True)
    if str(target) == source.location:
        raise EocatError("TARGET is the --db catalogue itself: name another one")
    with open_store(target if is_pgstac(target) else Path(target)) as destination:

        def progress(collection: str, copied: int) -> None:
            click.echo(f"\r{copied:,} items copied ({collection})", err=True, nl=False)

        report = copy_catalogue(source, destination, progress=progress)
    click.echo("", err=True)
    if report.resumed_after:
        click.echo(f"resumed after {report.resumed_after}", err=True)
    for collection, (before, after) in sorted(report.counts.items()):
        mark = "" if before == after else "  <- differs"
        click.echo(f"{collection}: {before:,} -> {after:,}{mark}", err=True)
    verdict = "identical" if report.identical else "DIFFERENT"
    click.echo(f"checksum {report.source_checksum} -> {report.target_checksum}: {verdict}", err=True)
    if wants_json(ctx, output):
        echo_json(report.as_dict())
    if not report.identical:
        raise EocatError(f"{destination.location} does not hold the same items as {source.location}")
