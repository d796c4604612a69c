"""``eocat fetch`` end to end through the CLI against the CDSE emulator."""

from __future__ import annotations

import orjson
import pytest
from click.testing import CliRunner

from catalog.store import Store
from eocat.cli import main
from tests.backends import both_backends
from tests.fetch_helpers import cdse


def _run(store: Store, *args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(main, ["--db", store.location, "fetch", *args])
    return result.exit_code, result.stdout, result.stderr


@both_backends
def test_fetch_one_item_then_cached(monkeypatch: pytest.MonkeyPatch, store: Store) -> None:
    monkeypatch.setenv("EOCAT_ASSET_DIR", "")
    with cdse(monkeypatch, store) as (_, items):
        code, out, errors = _run(store, items[0]["id"], "--json")
        assert code == 0, errors
        [row] = [orjson.loads(line) for line in out.splitlines()]
        assert row["status"] == "fetched" and row["size"] == items[0]["assets"]["product"]["file:size"]
        assert "fetched 1, already local 0, failed 0" in errors
        code, out, errors = _run(store, items[0]["id"], "--json")
        assert code == 0 and orjson.loads(out)["status"] == "cached"


def test_fetch_search_form_with_jobs_and_dest(monkeypatch: pytest.MonkeyPatch, store: Store, tmp_path: object) -> None:
    with cdse(monkeypatch, store, count=3) as (_, items):
        dest = store.path.parent / "out"
        code, out, errors = _run(store, "--collections", "sentinel-2-l2a", "--asset", "SCL", "--jobs", "3",
                                 "--dest", str(dest), "--json")  # fmt: skip
        assert code == 0, errors
        rows = [orjson.loads(line) for line in out.splitlines()]
        assert sorted(r["item"] for r in rows) == sorted(i["id"] for i in items)
        assert all(r["status"] == "fetched" and r["path"].startswith(str(dest)) for r in rows)
        assert sorted(p.name for p in dest.iterdir() if p.is_file()) == sorted(
            r["path"].rsplit("/", 1)[1] for r in rows
        )


def test_errors_are_one_line_and_exit_non_zero(monkeypatch: pytest.MonkeyPatch, store: Store) -> None:
    with cdse(monkeypatch, store) as (_, items):
        code, _, errors = _run(store, "no-such-item")
        assert code == 3 and "no item 'no-such-item'" in errors and "Traceback" not in errors
        code, _, errors = _run(store, items[0]["id"], "--asset", "nope")
        assert code == 1 and "no asset 'nope'" in errors and "Traceback" not in errors
        code, _, errors = _run(store)
        assert code == 2 and "give an ITEM_ID or search options" in errors
        monkeypatch.delenv("CDSE_PASSWORD")
        monkeypatch.setenv("NETRC", str(store.path.parent / "no-netrc"))
        code, _, errors = _run(store, items[1]["id"])
        assert code == 1 and "CDSE credentials missing" in errors
