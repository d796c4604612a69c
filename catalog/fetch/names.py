"""File names from servers and catalogue entries, made safe: no path traversal, no odd characters."""

from __future__ import annotations

import re
import unicodedata
from email.message import Message
from pathlib import Path
from urllib.parse import unquote, urlsplit

MAX_NAME_BYTES = 200
_UNSAFE = re.compile(r"[^A-Za-z0-9._+=,@-]+")
_EXTENSIONS = {
    "application/zip": ".zip",
    "image/tiff": ".tiff",
    "image/tiff; application=geotiff": ".tif",
    "image/tiff; application=geotiff; profile=cloud-optimized": ".tif",
    "application/xml": ".xml",
    "text/xml": ".xml",
    "application/json": ".json",
    "image/jp2": ".jp2",
    "image/png": ".png",
    "image/jpeg": ".jpg",
    "application/x-netcdf": ".nc",
}


def sanitize(name: str | None) -> str | None:
    """A safe single path component from ``name``, or None if nothing usable is left.

    Directories (``/`` and ``\\``) are dropped, control and unusual characters become ``_``,
    leading dots are removed (no hidden files, no ``..``) and the length is capped.
    """
    if not name:
        return None
    name = unicodedata.normalize("NFC", name).replace("\\", "/").split("/")[-1]
    name = "".join(ch for ch in name if unicodedata.category(ch)[0] != "C")
    if name.startswith("$"):  # OData segments such as $value are not names
        return None
    name = _UNSAFE.sub("_", name).lstrip(".").strip("_ ")
    if not name:
        return None
    while len(name.encode()) > MAX_NAME_BYTES:
        stem, dot, ext = name.rpartition(".")
        name = (stem[: max(1, len(stem) - 10)] + dot + ext) if dot and len(ext) < 12 else name[:-10]
    return name


def content_disposition_name(header: str | None) -> str | None:
    """The ``filename`` (or RFC 5987 ``filename*``) of a ``Content-Disposition`` header, unsanitized."""
    if not header:
        return None
    message = Message()
    message["content-disposition"] = header
    name = message.get_filename()
    if name is None and "filename=" in header:  # unquoted values with spaces etc.
        name = header.split("filename=", 1)[1].split(";", 1)[0].strip().strip('"')
    return name or None


def url_name(url: str) -> str | None:
    """The last path segment of ``url`` (percent-decoded), e.g. ``0.tiff``."""
    return unquote(urlsplit(url).path.rstrip("/").rsplit("/", 1)[-1]) or None


def extension_for(media_type: str | None) -> str:
    """A file extension for a media type (``""`` when unknown)."""
    if not media_type:
        return ""
    return _EXTENSIONS.get(media_type.lower(), _EXTENSIONS.get(media_type.split(";")[0].strip().lower(), ""))


def choose_name(
    *,
    disposition: str | None,
    local_path: str | None,
    href: str,
    fallback: str,
    media_type: str | None,
) -> str:
    """The file name of a local copy: server's Content-Disposition, then ``file:local_path``, then the URL.

    Every candidate is sanitized; a URL segment such as ``$value`` is not a name, so the last resort
    is ``fallback`` (item and asset) plus an extension from the media type.
    """
    for candidate in (content_disposition_name(disposition), local_path, url_name(href)):
        name = sanitize(candidate)
        if name and ("." in name or candidate == local_path):
            return name
    return (sanitize(fallback) or "asset") + extension_for(media_type)


def inside(root: Path, path: Path) -> bool:
    """True when ``path`` resolves to a place under ``root`` (symlinks resolved)."""
    return path.resolve().is_relative_to(root.resolve())
