"""The CLI over GeoParquet: export, import of the export, SQL."""

from __future__ import annotations

import json
from pathlib import Path

from click.testing import CliRunner

from catalog.store import Store
from eocat.cli import main
from tests.items import make_item


def test_export_import_sql(tmp_path: Path) -> None:
    db = tmp_path / "cat.db"
    items = [make_item(f"s2-{n}", "sentinel-2-l2a", x=n % 30, datetime=f"2023-{1 + n % 12:02d}-05T10:00:00Z",
                       properties={"eo:cloud_cover": float(n % 10) * 10}) for n in range(120)]  # fmt: skip
    with Store(db) as store:
        store.upsert_items(items)
    runner = CliRunner()
    out = tmp_path / "parquet"
    result = runner.invoke(main, ["--db", str(db), "export", "parquet", str(out), "--json"])
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    assert report["items"] == 120 and report["written"] == ["collection=sentinel-2-l2a/year=2023/items.parquet"]
    assert "120 items" in result.stderr

    result = runner.invoke(main, ["--db", str(db), "sql", "--format", "json",
                                  'SELECT month(datetime) AS m, count(*) AS n FROM "sentinel-2-l2a" '
                                  "WHERE \"eo:cloud_cover\" < 50 GROUP BY 1 ORDER BY 1"])  # fmt: skip
    assert result.exit_code == 0, result.output
    rows = [json.loads(line) for line in result.stdout.splitlines()]
    expected = {m: sum(1 for n in range(120) if 1 + n % 12 == m and n % 10 < 5) for m in range(1, 13)}
    assert {row["m"]: row["n"] for row in rows} == {m: c for m, c in expected.items() if c}

    result = runner.invoke(main, ["--db", str(db), "sql", "--parquet", str(out), "--format", "csv",
                                  "SELECT id, year FROM items ORDER BY id LIMIT 2"])  # fmt: skip
    assert result.exit_code == 0 and result.stdout.splitlines() == ["id,year", "s2-0,2023", "s2-1,2023"]

    result = runner.invoke(main, ["--db", str(db), "sql", "SELECT nope FROM items"])
    assert result.exit_code == 2 and "DuckDB" in result.output and "Traceback" not in result.output
    result = runner.invoke(main, ["--db", str(db), "sql", "--parquet", str(tmp_path / "missing"), "SELECT 1"])
    assert result.exit_code == 1 and "eocat export parquet" in result.output

    again = tmp_path / "again.db"
    result = runner.invoke(main, ["--db", str(again), "import", str(out)])
    assert result.exit_code == 0, result.output
    with Store(again) as store:
        assert store.count_items() == 120
        assert store.get_item("sentinel-2-l2a", "s2-7")["properties"]["eo:cloud_cover"] == 70.0
