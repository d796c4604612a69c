"""Offline STAC validation against the schema copies in ``tests/schemas/``.

``validate_item(item)`` / ``validate_collection(col)`` / ``validate_catalog(cat)`` check an object against
the STAC core schema of its ``stac_version`` and against every schema listed in its ``stac_extensions``.
They raise ``jsonschema.ValidationError`` (the best-matching error, with a note naming the object and the
schema) when the object is invalid, and ``SchemaNotInMirror`` (an ``AssertionError``) when a schema it
needs - a core version, an extension version, or anything one of them ``$ref``s - is not in
``tests/schemas/``. Nothing is ever fetched from the network, and a missing schema never passes silently.

URL -> file rule (the same as the shared mirror): ``https://<host>/<path>[#...]`` ->
``tests/schemas/<host>/<path>``. The draft-07 meta-schema comes from ``jsonschema`` itself.

Validators are built once per schema URL and cached; ``date-time`` formats are checked (strict RFC 3339).

Speed: about 5 ms per item with a dozen extensions, so tests validate a spread sample of big sets.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from datetime import datetime
from functools import cache
from pathlib import Path
from typing import Any

import jsonschema
import orjson
import referencing
import referencing.exceptions
import referencing.jsonschema
from jsonschema.exceptions import ValidationError, best_match
from jsonschema.protocols import Validator

__all__ = [
    "SCHEMA_ROOT",
    "SchemaNotInMirror",
    "ValidationError",
    "schema_path",
    "validate_catalog",
    "validate_collection",
    "validate_item",
    "validate_items",
]

SCHEMA_ROOT = Path(__file__).resolve().parent / "schemas"

_CORE = {
    "Feature": "https://schemas.stacspec.org/v{version}/item-spec/json-schema/item.json",
    "Collection": "https://schemas.stacspec.org/v{version}/collection-spec/json-schema/collection.json",
    "Catalog": "https://schemas.stacspec.org/v{version}/catalog-spec/json-schema/catalog.json",
}


class SchemaNotInMirror(AssertionError):
    """A schema URL (core version, extension version or a ``$ref``) has no local copy."""


def schema_path(url: str) -> Path:
    """The local file for a schema URL; raises ``SchemaNotInMirror`` when there is none."""
    m = re.match(r"^https?://([^/?#]+)(/[^?#]*)(?:#.*)?$", url)
    if m is None:
        raise SchemaNotInMirror(f"schema reference {url!r} is not an absolute http(s) URL")
    host, path = m.groups()
    local = (SCHEMA_ROOT / host / path.lstrip("/")).resolve()
    if SCHEMA_ROOT not in local.parents or not local.is_file():
        raise SchemaNotInMirror(
            f"schema {url} is not in the local schema mirror (expected {local}); copy it from the shared "
            "offline mirror into tests/schemas/ (see tests/schemas/SOURCES.md) if it is legitimate"
        )
    return local


def _retrieve(uri: str) -> referencing.Resource[Any]:
    contents = orjson.loads(schema_path(uri).read_bytes())
    return referencing.Resource.from_contents(contents, default_specification=referencing.jsonschema.DRAFT7)


def _mirror_resources() -> Iterable[tuple[str, referencing.Resource[Any]]]:
    for path in sorted(SCHEMA_ROOT.rglob("*.json")):
        url = "https://" + path.relative_to(SCHEMA_ROOT).as_posix()
        yield url, _retrieve(url)


# every local schema, loaded and crawled once; anything else goes through _retrieve, which fails loudly
_REGISTRY: referencing.Registry[Any] = (
    referencing.Registry(retrieve=_retrieve)  # type: ignore[call-arg]
    .with_resources(_mirror_resources())
    .crawl()
)

# --- formats -------------------------------------------------------------------------------------

_RFC3339 = re.compile(r"^(\d{4})-(\d{2})-(\d{2})[Tt](\d{2}):(\d{2}):(\d{2})(\.\d+)?([Zz]|[+-](\d{2}):(\d{2}))$")

FORMAT_CHECKER = jsonschema.FormatChecker(formats=())


def _is_datetime(value: object) -> bool:
    if not isinstance(value, str):
        return True
    m = _RFC3339.match(value)
    if m is None:
        raise ValueError(f"{value!r} is not an RFC 3339 date-time")
    y, mo, d, h, mi, s = (int(g) for g in m.groups()[:6])
    datetime(y, mo, d, h, mi, min(s, 59))  # ValueError for e.g. month 13 or Feb 30
    if m.group(9) is not None and (int(m.group(9)) > 23 or int(m.group(10)) > 59):
        raise ValueError(f"{value!r} has an invalid UTC offset")
    return True


FORMAT_CHECKER.checks("date-time", raises=ValueError)(_is_datetime)


# --- validators ----------------------------------------------------------------------------------


@cache
def _validator(url: str) -> Validator:
    resolved = _REGISTRY.get_or_retrieve(url)
    schema = resolved.value.contents
    cls = jsonschema.validators.validator_for(schema, default=jsonschema.Draft7Validator)
    cls.check_schema(schema)
    validator: Validator = cls(schema, registry=_REGISTRY, format_checker=FORMAT_CHECKER)
    return validator


def _get_validator(url: str) -> Validator:
    try:
        return _validator(url)
    except referencing.exceptions.Unretrievable as exc:
        cause = exc.__cause__
        if isinstance(cause, SchemaNotInMirror):
            raise cause from None
        raise SchemaNotInMirror(f"schema {url} could not be loaded from the local mirror: {exc}") from exc


def _check(obj: dict[str, Any], url: str, what: str) -> None:
    validator = _get_validator(url)
    try:
        error = best_match(validator.iter_errors(obj))
    except referencing.exceptions.Unresolvable as exc:
        raise SchemaNotInMirror(f"{what}: while validating against {url}, a $ref failed: {exc}") from exc
    if error is not None:
        error.add_note(f"{what}: invalid against {url}")
        raise error


def _validate(obj: object, expected_type: str) -> None:
    if not isinstance(obj, dict):
        raise AssertionError(f"expected a STAC {expected_type} object (dict), got {type(obj).__name__}")
    what = f"{expected_type} {obj.get('id')!r}"
    if obj.get("type") != expected_type:
        raise AssertionError(f"{what}: 'type' is {obj.get('type')!r}, expected {expected_type!r}")
    version = obj.get("stac_version")
    if not isinstance(version, str) or not re.fullmatch(r"\d+\.\d+\.\d+(-[\w.]+)?", version):
        raise AssertionError(f"{what}: 'stac_version' {version!r} is not a version string")
    extensions = obj.get("stac_extensions", [])
    if not isinstance(extensions, list) or not all(isinstance(u, str) for u in extensions):
        raise AssertionError(f"{what}: 'stac_extensions' must be a list of schema URLs")
    # resolve everything first: a missing schema fails even if another error would be reported
    urls = [_CORE[expected_type].format(version=version), *extensions]
    for url in urls:
        _get_validator(url)
    for url in urls:
        _check(obj, url, what)


def validate_item(item: dict[str, Any]) -> None:
    """Validate a STAC Item against its core schema and all its ``stac_extensions`` (offline)."""
    _validate(item, "Feature")


def validate_collection(col: dict[str, Any]) -> None:
    """Validate a STAC Collection against its core schema and all its ``stac_extensions`` (offline)."""
    _validate(col, "Collection")


def validate_catalog(cat: dict[str, Any]) -> None:
    """Validate a STAC Catalog against its core schema and all its ``stac_extensions`` (offline)."""
    _validate(cat, "Catalog")


def validate_items(items: Iterable[dict[str, Any]]) -> int:
    """Validate many items; returns how many were checked."""
    count = 0
    for item in items:
        validate_item(item)
        count += 1
    return count
