"""One CLI vocabulary and clear answers: selection options everywhere, odd input, markup-free output."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import click
import orjson
import pytest
from click.testing import CliRunner

from emulators.cdse import CdseEmulator, SyntheticProducts
from eocat.cli import main
from tests.items import COLLECTION, make_item

SELECTION = {"--collections", "--ids", "--bbox", "--intersects", "--datetime", "--filter"}


def _command(path: str) -> click.Command:
    command: click.Command = main
    for name in path.split():
        assert isinstance(command, click.Group)
        found = command.get_command(click.Context(command), name)
        assert found is not None, path
        command = found
    return command


def _options(command: click.Command) -> set[str]:
    return {opt for p in command.params if isinstance(p, click.Option) and not p.hidden for opt in p.opts}


def _every_command(group: click.Group, prefix: str = "") -> Iterator[tuple[str, click.Command]]:
    for name in group.list_commands(click.Context(group)):
        command = group.get_command(click.Context(group), name)
        assert command is not None
        path = f"{prefix}{name}"
        if isinstance(command, click.Group):
            yield from _every_command(command, path + " ")
        else:
            yield path, command


@pytest.mark.parametrize("path", ["search", "fetch", "timescan", "inventory"])
def test_every_selecting_command_takes_the_selection_options(path: str) -> None:
    assert _options(_command(path)) >= SELECTION


@pytest.mark.parametrize("path", ["harvest cdse", "harvest cdse-bursts", "harvest asf-bursts"])
def test_harvests_speak_the_same_language(path: str) -> None:
    options = _options(_command(path))
    assert {"--bbox", "--intersects", "--datetime", "--format"} <= options
    assert "--json" not in options and "--start" not in options


def test_no_command_offers_json_and_every_option_has_help() -> None:
    missing = []
    for path, command in _every_command(main):
        if command.context_settings.get("ignore_unknown_options"):
            continue  # pass-through to an emulator's own parser (checked below)
        for param in command.params:
            if isinstance(param, click.Option) and not param.hidden:
                assert "--json" not in param.opts, path
                if not param.help:
                    missing.append(f"{path} {param.opts[0]}")
    assert missing == []


@pytest.mark.parametrize("name", ["cdse", "asf", "destine"])
def test_emulate_help_names_the_eocat_command_and_documents_every_option(name: str) -> None:
    result = CliRunner().invoke(main, ["emulate", name, "--help"])
    assert result.exit_code == 0
    assert result.output.startswith(f"usage: eocat emulate {name}")
    import argparse
    import importlib

    module = importlib.import_module(f"emulators.{name}.cli")
    parser: argparse.ArgumentParser = module._parser() if hasattr(module, "_parser") else module.parser()
    undocumented = [a.option_strings[0] for a in parser._actions if a.option_strings and not a.help]
    assert undocumented == []


@pytest.fixture
def odd_db(tmp_path: Path) -> str:
    db = str(tmp_path / "odd.db")
    (tmp_path / "collection.json").write_text(json.dumps(COLLECTION))
    items = [
        make_item("x[/bold]y", properties={"platform": "[red]p[/red]"}),
        make_item("a:x:b", properties={"platform": ":smile:"}),
        make_item("a/b"),
    ]
    (tmp_path / "items.ndjson").write_bytes(b"".join(orjson.dumps(item) + b"\n" for item in items))
    result = CliRunner().invoke(main, ["--db", db, "import", str(tmp_path / "collection.json"),
                                       str(tmp_path / "items.ndjson")])  # fmt: skip
    assert result.exit_code == 0, result.output
    return db


def test_tables_print_ids_and_values_as_they_are(odd_db: str) -> None:
    result = CliRunner().invoke(main, ["--db", odd_db, "search"])
    assert result.exit_code == 0, result.output
    for text in ("x[/bold]y", "a:x:b", "[red]p[/red]", ":smile:", "a/b"):
        assert text in result.stdout
    assert "😄" not in result.stdout


def test_sql_output_is_not_markup(odd_db: str, tmp_path: Path) -> None:
    runner = CliRunner()
    assert runner.invoke(main, ["--db", odd_db, "export", "parquet", str(tmp_path / "pq")]).exit_code == 0
    query = "SELECT id, platform FROM items ORDER BY id"
    result = runner.invoke(main, ["--db", odd_db, "sql", "--parquet", str(tmp_path / "pq"), query])
    assert result.exit_code == 0, result.output
    assert "x[/bold]y" in result.stdout and "[red]p[/red]" in result.stdout and ":smile:" in result.stdout


def test_sql_examples_need_no_query(odd_db: str) -> None:
    result = CliRunner().invoke(main, ["--db", odd_db, "sql", "--examples"])
    assert result.exit_code == 0 and "SELECT" in result.stdout
    missing = CliRunner().invoke(main, ["--db", odd_db, "sql"])
    assert missing.exit_code == 2 and "--examples" in missing.output


@pytest.mark.parametrize(
    ("args", "fragment"),
    [
        (["search", "--sortby", "a\x00b"], "NUL"),
        (["search", "--filter", '"a\x00b" = 1'], "NUL"),
        (["search", "--filter", "eo:cloud_cover <<< 3"], "invalid CQL2 filter at line 1, column"),
    ],
)
def test_odd_queries_are_one_line_exit_2(odd_db: str, args: list[str], fragment: str) -> None:
    result = CliRunner().invoke(main, ["--db", odd_db, *args])
    assert result.exit_code == 2, result.output
    lines = result.output.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in result.output
    assert fragment.replace("filter at", "filter: at") in lines[0]


@pytest.mark.parametrize(
    "args",
    [
        ["search", "--collections", "nope"],
        ["fetch", "--collections", "nope"],
        ["fetch", "a/b", "--collections", "nope"],
        ["export", "parquet", "OUT", "--collections", "nope"],
        ["inventory", "--collections", "nope", "--bbox", "0,0,1,1"],
        ["timescan", "--collections", "nope", "--out", "OUT.tif"],
    ],
)
def test_an_unknown_collection_exits_3_everywhere(odd_db: str, tmp_path: Path, args: list[str]) -> None:
    args = [str(tmp_path / a) if a.startswith("OUT") else a for a in args]
    result = CliRunner().invoke(main, ["--db", odd_db, *args])
    assert result.exit_code == 3, result.output
    assert "unknown collection(s): nope" in result.output


def test_date_only_intervals_mean_whole_days(odd_db: str) -> None:
    runner = CliRunner()
    day = runner.invoke(main, ["--db", odd_db, "search", "--datetime", "2024-05-01", "--format", "count"])
    month = runner.invoke(main, ["--db", odd_db, "search", "--datetime", "2024-04-01/2024-05-01", "--format", "count"])
    before = runner.invoke(main, ["--db", odd_db, "search", "--datetime", "2024-04-01/2024-04-30", "--format", "count"])
    assert (day.output, month.output, before.output) == ("3\n", "3\n", "0\n")


def test_ids_help_says_they_combine_and_they_do(odd_db: str) -> None:
    help_text = " ".join(CliRunner().invoke(main, ["search", "--help"]).output.split())
    assert "combined with the other filters" in help_text
    result = CliRunner().invoke(main, ["--db", odd_db, "search", "--ids", "a/b,a:x:b", "--filter",
                                       "platform = ':smile:'", "--format", "ndjson"])  # fmt: skip
    assert [json.loads(line)["id"] for line in result.stdout.splitlines()] == ["a:x:b"]


# -- harvest ------------------------------------------------------------------------------------


@pytest.fixture
def cdse(monkeypatch: pytest.MonkeyPatch) -> Iterator[CdseEmulator]:
    recipe = SyntheticProducts(seed=5, count=300, start="2023-06-01T00:00:00Z", end="2023-07-01T00:00:00Z",
                               collections=("SENTINEL-2",), bbox=(5.0, 44.0, 16.0, 52.0))  # fmt: skip
    with CdseEmulator(products=recipe, include_fixtures=False) as emulator:
        for name, value in emulator.environment().items():
            monkeypatch.setenv(name, value)
        monkeypatch.setenv("EOCAT_TOKEN_CACHE", "0")
        yield emulator


def test_harvest_cdse_refuses_an_unknown_collection_before_asking_upstream(tmp_path: Path) -> None:
    result = CliRunner().invoke(main, ["--db", str(tmp_path / "h.db"), "harvest", "cdse", "--collection", "NOSUCH",
                                       "--datetime", "2023-06-01/2023-06-30"])  # fmt: skip
    assert result.exit_code == 2
    assert "unknown CDSE collection 'NOSUCH'" in result.output and "SENTINEL-2" in result.output
    assert len(result.output.strip().splitlines()) == 1


def test_new_and_old_harvest_spellings_harvest_the_same_and_since_last_starts_cleanly(
    cdse: CdseEmulator, tmp_path: Path
) -> None:
    area = tmp_path / "area.geojson"
    area.write_text(json.dumps({"type": "Feature", "properties": {}, "geometry": {
        "type": "Polygon", "coordinates": [[[5, 44], [11, 44], [11, 49], [5, 49], [5, 44]]]}}))  # fmt: skip
    runner = CliRunner()
    new = runner.invoke(main, ["harvest", "cdse", "--db", str(tmp_path / "new.db"), "--collection", "sentinel-2",
                               "--intersects", str(area), "--datetime", "2023-06-01/2023-06-15",
                               "--since-last", "--format", "json"])  # fmt: skip
    old = runner.invoke(main, ["--db", str(tmp_path / "old.db"), "harvest", "cdse", "--collection", "SENTINEL-2",
                               "--aoi", str(area), "--start", "2023-06-01", "--end", "2023-06-15",
                               "--json"])  # fmt: skip
    assert new.exit_code == 0 and old.exit_code == 0, new.output + old.output
    first, second = json.loads(new.stdout.splitlines()[-1]), json.loads(old.stdout.splitlines()[-1])
    assert first["inserted"] == second["inserted"] > 0
    again = runner.invoke(main, ["--db", str(tmp_path / "new.db"), "harvest", "cdse", "--collection", "SENTINEL-2",
                                 "--intersects", str(area), "--datetime", "2023-06-01/2023-06-15",
                                 "--since-last", "--format", "json"])  # fmt: skip
    assert again.exit_code == 0, again.output
    assert json.loads(again.stdout.splitlines()[-1])["received"] == 0
