"""Docs are tests: README.md's shell examples parse, run, and document every command and option.

- Every ``eocat`` line of a ```` ```sh ```` block of README.md must name an existing command and only
  options that command has (the emulators' own options included); every ``make`` line an existing target.
- Every command and every (visible) option of the CLI must appear in at least one such line: add a new
  one to an example or to the "Command reference" block and the test passes.
- Every example runs, in order, in a sandbox with the local emulators (CDSE, ASF, DestinE) standing in
  for the real services, and must exit 0. Lines the sandbox cannot run (real services, servers that run
  until stopped, ids from your own catalogue) carry an explicit marker: ``# not run: <reason>`` at the end of
  the line, or ``<!-- not run: <reason> -->`` on the line before the block.
"""

from __future__ import annotations

import argparse
import importlib
import json
import os
import re
import shlex
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import click
import orjson
import pytest

from eocat.cli import main

ROOT = Path(__file__).resolve().parents[1]
README = ROOT / "README.md"
EOCAT = str(Path(sys.executable).with_name("eocat"))
NOT_RUN = re.compile(r"#\s*not run:|<!--\s*not run:")
GLOBAL_OPTIONS = {"--db", "--help", "-h"}  # accepted by every command, documented once


@dataclass(frozen=True)
class Example:
    line: int  # 1-based line number in README.md
    text: str  # the command, continuation lines joined
    run: bool  # False when marked "not run"

    @property
    def commands(self) -> list[list[str]]:
        """The words of each command of the line (``a && b`` is two)."""
        result: list[list[str]] = [[]]
        for word in shlex.split(self.text, comments=True):
            if word in ("&&", ";"):
                result.append([])
            else:
                result[-1].append(word)
        return [words for words in result if words]

    def __str__(self) -> str:
        return f"README.md:{self.line}: {self.text.split('  #')[0].strip()}"


def examples() -> list[Example]:
    """Every command line of the ```sh blocks, with its line number."""
    lines = README.read_text().splitlines()
    found: list[Example] = []
    state: str | None = None  # None outside blocks, "sh" in a shell block, "other" in any other block
    block_skipped = False
    pending, start = "", 0
    for number, line in enumerate(lines, 1):
        if line.startswith("```"):
            if state is None:
                state = "sh" if line.strip() in ("```sh", "```shell", "```bash") else "other"
                block_skipped = number > 1 and bool(NOT_RUN.search(lines[number - 2]))
            else:
                state = None
            continue
        if state != "sh":
            continue
        if not pending:
            start = number
        pending += line.rstrip()
        if pending.endswith("\\"):
            pending = pending[:-1] + " "
            continue
        if pending.strip():
            found.append(Example(start, pending.strip(), not block_skipped and not NOT_RUN.search(pending)))
        pending = ""
    return found


def _blocks_are_labelled() -> list[str]:
    problems = []
    inside = False
    for number, line in enumerate(README.read_text().splitlines(), 1):
        if line.startswith("```"):
            if not inside and line.strip() == "```":
                problems.append(f"README.md:{number}: label the code block (```sh for commands, ```text otherwise)")
            inside = not inside
    return problems


# -- the CLI's surface -------------------------------------------------------------------------


def _pass_through(command: click.Command) -> bool:
    return bool(command.context_settings.get("ignore_unknown_options"))


def _emulator_parser(name: str) -> argparse.ArgumentParser:
    parser: argparse.ArgumentParser = importlib.import_module(f"emulators.{name}.cli")._parser()
    return parser


def _option_names(path: str, command: click.Command) -> list[tuple[str, ...]]:
    """Each visible option of a command as the tuple of its spellings (``("--intersects", "--aoi")``)."""
    if _pass_through(command):
        parser = _emulator_parser(path.split()[-1])
        return [tuple(a.option_strings) for a in parser._actions if a.option_strings and a.dest != "help"]
    return [
        tuple(opt for opt in p.opts if opt.startswith("--"))
        for p in command.params
        if isinstance(p, click.Option) and not p.hidden and not GLOBAL_OPTIONS & set(p.opts)
    ]


def _options(path: str, command: click.Command) -> set[str]:
    return {name for names in _option_names(path, command) for name in names}


def commands(group: click.Group = main, prefix: str = "") -> Iterator[tuple[str, click.Command]]:
    """(path, command) of every leaf command, e.g. ("harvest cdse", <Command>)."""
    ctx = click.Context(group)
    for name in group.list_commands(ctx):
        command = group.get_command(ctx, name)
        assert command is not None
        if isinstance(command, click.Group):
            yield from commands(command, f"{prefix}{name} ")
        else:
            yield f"{prefix}{name}", command


def resolve(words: list[str]) -> tuple[str, click.Command, list[str]]:
    """The command path an ``eocat …`` line names, its command, and the words after the path."""
    rest = words[1:]
    while rest and rest[0] in ("--db", "-h", "--help"):
        rest = rest[2:] if rest[0] == "--db" else rest[1:]
    command: click.Command = main
    path: list[str] = []
    while isinstance(command, click.Group) and rest:
        found = command.get_command(click.Context(command), rest[0])
        if found is None:
            raise LookupError(f"no command `eocat {' '.join([*path, rest[0]])}`")
        path.append(rest.pop(0))
        command = found
    return " ".join(path), command, rest


def _used_options(rest: list[str]) -> set[str]:
    used = set()
    for word in rest:
        word = word.strip("[]")
        if word.startswith("--"):
            used.add(word.split("=")[0].rstrip("]"))
    return used


def _make_targets() -> set[str]:
    text = (ROOT / "Makefile").read_text()
    return set(re.findall(r"^([A-Za-z][\w-]*):", text, re.MULTILINE))


# -- static checks -----------------------------------------------------------------------------


def test_readme_code_blocks_are_labelled() -> None:
    assert _blocks_are_labelled() == []


def test_every_readme_command_and_option_exists() -> None:
    problems = []
    targets = _make_targets()
    for example, words in ((e, w) for e in examples() for w in e.commands):
        if words[0] == "eocat":
            try:
                path, command, rest = resolve(words)
            except LookupError as exc:
                problems.append(f"{example}: {exc}")
                continue
            if isinstance(command, click.Group):
                problems.append(f"{example}: `eocat {path}` needs a subcommand")
                continue
            unknown = _used_options(rest) - _options(path, command) - GLOBAL_OPTIONS
            problems += [f"{example}: `eocat {path}` has no option {name}" for name in sorted(unknown)]
        elif words[0] == "make":
            problems += [
                f"{example}: the Makefile has no target {w!r}"
                for w in words[1:]
                if "=" not in w and not w.startswith("-") and w not in targets
            ]
    assert problems == [], "\n".join(problems)


def test_every_command_and_option_is_in_the_readme() -> None:
    documented: dict[str, set[str]] = {}
    for words in (w for e in examples() for w in e.commands):
        if words[0] == "eocat":
            try:
                path, _, rest = resolve(words)
            except LookupError:
                continue  # reported by the test above
            documented.setdefault(path, set()).update(_used_options(rest))
    missing = []
    for path, command in commands():
        if path not in documented:
            missing.append(f"the command `eocat {path}`: add an example line `eocat {path} …` to a ```sh block")
            continue
        for names in _option_names(path, command):
            if not set(names) & documented[path]:
                missing.append(
                    f"`eocat {path} {names[0]}`: use {names[0]} in an `eocat {path}` line of a ```sh block "
                    '(an example, or the line of the "Command reference" block)'
                )
    assert missing == [], "README.md does not document:\n" + "\n".join(missing)


# -- running the examples ----------------------------------------------------------------------

AREA = {"type": "Polygon", "coordinates": [[[5.0, 44.0], [12.0, 44.0], [12.0, 48.0], [5.0, 48.0], [5.0, 44.0]]]}


def _write_inputs(sandbox: Path) -> None:
    """The files the examples name (items.ndjson, collection.json, aoi.geojson, roi.geojson, area.geojson)."""
    from eocat import samples

    # generated items point at the real services: keep them out of the window the fetch example downloads
    items = [
        item
        for item in samples.generate_items(400, seed=21)
        if item["collection"] == "sentinel-2-l2a" and not item["properties"]["datetime"].startswith("2023-07")
    ]
    (sandbox / "items.ndjson").write_bytes(b"".join(orjson.dumps(item) + b"\n" for item in items))
    (sandbox / "collection.json").write_bytes(
        orjson.dumps(next(c for c in samples.collections() if c["id"] == "sentinel-2-l2a"))
    )
    for name in ("aoi.geojson", "roi.geojson", "area.geojson"):
        (sandbox / name).write_text(json.dumps({"type": "Feature", "properties": {}, "geometry": AREA}))


@pytest.fixture(scope="module")
def sandbox(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Path, dict[str, str]]]:
    from emulators.asf import AsfEmulator
    from emulators.cdse import CdseEmulator, SyntheticProducts
    from emulators.destine import DestinEEmulator
    from emulators.s1truth import SyntheticBursts

    directory = tmp_path_factory.mktemp("readme")
    (directory / "data").mkdir()
    _write_inputs(directory)
    products = [
        SyntheticProducts(seed=31, count=1500, start="2023-06-01T00:00:00Z", end="2023-09-01T00:00:00Z",
                          collections=("SENTINEL-2",), bbox=(5.0, 44.0, 16.0, 52.0)),
        SyntheticProducts(seed=32, count=600, start="2024-01-01T00:00:00Z", end="2025-01-01T00:00:00Z",
                          collections=("SENTINEL-1",), bbox=(5.0, 44.0, 12.0, 48.0)),
    ]  # fmt: skip
    truth = SyntheticBursts(seed=1, frames=1, start="2024-08-01T00:00:00Z", end="2024-10-01T00:00:00Z",
                            bbox=(-10.0, 35.0, 30.0, 60.0))  # fmt: skip
    with (
        CdseEmulator(products=products, include_fixtures=True, bursts=truth) as cdse,
        AsfEmulator(bursts=truth, include_fixtures=False) as asf,
        DestinEEmulator(start=date(2021, 6, 25), end=date(2021, 7, 8)) as destine,
    ):
        env = {**os.environ, "EOCAT_DB": str(directory / "data" / "eocat.db"), "EOCAT_TOKEN_CACHE": "0",
               "DESP_USERNAME": "readme", "DESP_PASSWORD": "readme", "CDSE_USERNAME": "readme",
               "CDSE_PASSWORD": "readme", "EOCAT_API_MATERIALIZER": "none"}  # fmt: skip
        for emulator in (cdse, asf, destine):
            env.update(emulator.environment())
        yield directory, env


def test_every_readme_example_runs(sandbox: tuple[Path, dict[str, str]]) -> None:
    directory, env = sandbox
    failures = []
    for example, words in ((e, w) for e in examples() if e.run for w in e.commands):
        assert words[0] == "eocat", f"{example}: only eocat commands run here; mark others '# not run: why'"
        result = subprocess.run(
            [EOCAT, *words[1:]], cwd=directory, env=env, capture_output=True, text=True, timeout=600, check=False
        )
        if os.environ.get("EOCAT_README_VERBOSE"):
            print(f"$ {' '.join(words)[:150]}\n{result.stderr.strip()[-300:]}")
        if result.returncode != 0:
            failures.append(f"{example}\n  exit {result.returncode}: {result.stderr.strip()[-600:]}")
    assert failures == [], "README examples that fail as written:\n" + "\n".join(failures)
    # the examples did their work (not just exit 0 on empty selections)
    assert (directory / "europe-2021-07.tif").stat().st_size > 0
    assert json.loads((directory / "inventory.json").read_text())["items"] > 0
    assert list((directory / "data" / "parquet").glob("collection=*/year=*/*.parquet"))
    assert list((directory / "data" / "assets" / "sentinel-2-l2a").glob("*/*SCL*"))
