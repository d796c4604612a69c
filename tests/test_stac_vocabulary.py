"""catalog.stac is the one home of the STAC vocabulary: every shipped document speaks it."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import pytest
from pystac.extensions.file import FileExtension
from pystac.extensions.grid import GridExtension
from pystac.extensions.projection import ProjectionExtension
from pystac.extensions.timestamps import TimestampsExtension

from catalog.stac import AUTH_SCHEMES, EXTENSIONS, STAC_VERSION, auth_schemes, extension_uris
from catalog.timeutil import canonical_lenient, format_canonical, parse_canonical
from eocat import samples
from indexer.bursts import mapping as bursts_mapping
from indexer.cdse import mapping as cdse_mapping
from indexer.destine import mapping as destine_mapping
from tests.stac_validation import schema_path


def shipped_collections() -> list[dict[str, Any]]:
    """Every collection document eocat writes: CDSE, bursts, DestinE and the sample generator's."""
    return [
        *cdse_mapping.collections("https://zipper.example"),
        bursts_mapping.collection(),
        destine_mapping.collection(),
        *samples.collections(),
    ]


def test_every_extension_uri_has_an_offline_schema() -> None:
    for name, uri in EXTENSIONS.items():
        assert schema_path(uri).is_file(), name


def test_extension_uris_come_from_pystac_where_pystac_writes_that_version() -> None:
    assert EXTENSIONS["file"] == FileExtension.get_schema_uri()
    assert EXTENSIONS["grid"] == GridExtension.get_schema_uri()
    assert EXTENSIONS["proj"] == ProjectionExtension.get_schema_uri()
    assert EXTENSIONS["timestamps"] == TimestampsExtension.get_schema_uri()
    assert STAC_VERSION == "1.1.0"


def test_extension_uris_are_sorted_and_unknown_names_fail() -> None:
    assert extension_uris("sat", "authentication") == sorted([EXTENSIONS["sat"], EXTENSIONS["authentication"]])
    with pytest.raises(KeyError):
        extension_uris("nosuch")


def test_auth_schemes_are_fresh_copies() -> None:
    first = auth_schemes("oidc", "earthdata")
    first["oidc"]["description"] = "changed"
    first["earthdata"]["flows"]["authorizationCode"]["scopes"]["x"] = "y"
    assert auth_schemes("oidc", "earthdata") == {k: AUTH_SCHEMES[k] for k in ("oidc", "earthdata")}
    assert AUTH_SCHEMES["oidc"]["description"] != "changed"


@pytest.mark.parametrize("document", shipped_collections(), ids=lambda d: d["id"])
def test_shipped_collections_use_the_one_vocabulary(document: dict[str, Any]) -> None:
    """Collection JSON files are data, but their extension URIs and auth schemes are catalog.stac's."""
    assert document["stac_version"] == STAC_VERSION
    assert set(document.get("stac_extensions", [])) <= set(EXTENSIONS.values())
    for key, scheme in document.get("auth:schemes", {}).items():
        assert scheme == AUTH_SCHEMES[key], key


def test_items_of_every_mapping_use_the_one_vocabulary() -> None:
    for item in samples.generate_items(50, seed=4):
        assert item["stac_version"] == STAC_VERSION
        assert set(item["stac_extensions"]) <= set(EXTENSIONS.values())
        for key, scheme in item["properties"]["auth:schemes"].items():
            assert scheme == AUTH_SCHEMES[key]
    assert set(destine_mapping.ITEM_EXTENSIONS) <= set(EXTENSIONS.values())


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2024-05-01T10:20:30.123456Z", datetime(2024, 5, 1, 10, 20, 30, 123456, tzinfo=UTC)),
        ("2024-05-01T10:20:30z", datetime(2024, 5, 1, 10, 20, 30, tzinfo=UTC)),
        ("2024-05-01T12:20:30+02:00", datetime(2024, 5, 1, 10, 20, 30, tzinfo=UTC)),
        ("2024-05-01T10:20:30.5", datetime(2024, 5, 1, 10, 20, 30, 500000, tzinfo=UTC)),
        (" 2024-05-01T10:20:30.123456789Z ", datetime(2024, 5, 1, 10, 20, 30, 123456, tzinfo=UTC)),
    ],
)
def test_parse_canonical(text: str, expected: datetime) -> None:
    parsed = parse_canonical(text)
    assert parsed == expected
    assert parsed.utcoffset() == timedelta(0)
    assert format_canonical(parsed) == canonical_lenient(text.strip())


def test_parse_canonical_round_trips_the_canonical_form() -> None:
    moment = datetime(1999, 12, 31, 23, 59, 59, 999999, tzinfo=timezone(timedelta(hours=-5)))
    text = format_canonical(moment)
    assert text == "2000-01-01T04:59:59.999999Z"
    assert parse_canonical(text) == moment


@pytest.mark.parametrize("text", ["", "yesterday", "2024-13-01T00:00:00Z", "2024-02-30T00:00:00Z"])
def test_parse_canonical_rejects_garbage(text: str) -> None:
    with pytest.raises(ValueError):
        parse_canonical(text)
