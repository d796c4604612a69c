"""DuckDB connections for the lake, offline: the spatial and httpfs extensions come from their wheels.

DuckDB normally downloads extensions on first use, which fails without a network. The Python
package index carries them as wheels (``duckdb-extension-spatial``, ``duckdb-extension-httpfs``),
each built for one DuckDB version; :func:`connect` loads them from the installed package with
autoinstall and autoload off, so nothing is ever fetched. GeoParquet geometry columns stay WKB
blobs (``ST_GeomFromWKB(geometry)`` makes a geometry), the same in every DuckDB version.

Remote lakes (``s3://``) get an S3 secret built from the standard AWS variables
(``AWS_ACCESS_KEY_ID``, ``AWS_SECRET_ACCESS_KEY``, ``AWS_SESSION_TOKEN``, ``AWS_REGION``,
``AWS_ENDPOINT_URL``; or the ``[AWS_PROFILE]`` section of ``~/.aws/credentials``); the values are
never logged.
"""

from __future__ import annotations

import configparser
import importlib
import os
from pathlib import Path
from urllib.parse import urlsplit

import duckdb

from catalog.errors import EocatError

PACKAGES = {"spatial": "duckdb-extension-spatial", "httpfs": "duckdb-extension-httpfs"}


def extension_file(name: str) -> Path:
    """The extension binary shipped by its wheel for the installed DuckDB version."""
    package = PACKAGES[name]
    install = f"pip install 'duckdb=={duckdb.__version__}' '{package}=={duckdb.__version__}'"
    try:
        module = importlib.import_module(package.replace("-", "_"))
    except ImportError:
        raise EocatError(f"DuckDB's {name} extension is not installed ({install})") from None
    folder = Path(str(module.__file__)).parent / "extensions"
    path = folder / f"v{duckdb.__version__}" / f"{name}.duckdb_extension"
    if not path.is_file():
        found = ", ".join(sorted(p.name for p in folder.glob("v*"))) or "none"
        raise EocatError(f"{package} has no build for DuckDB {duckdb.__version__} (it has: {found}); {install}")
    return path


def connect(*, remote: bool = False) -> duckdb.DuckDBPyConnection:
    """An in-memory connection with spatial loaded (and httpfs plus S3 credentials for remote lakes)."""
    conn = duckdb.connect(config={"autoinstall_known_extensions": False, "autoload_known_extensions": False})
    try:
        names = ["spatial", "httpfs"] if remote else ["spatial"]
        for name in names:
            conn.execute(f"LOAD {literal(str(extension_file(name)))}")
        conn.execute("SET enable_geoparquet_conversion = false")
        conn.execute("SET TimeZone = 'UTC'")  # STAC times are UTC: month(), date_trunc() … in UTC
        if remote:
            _s3_secret(conn)
    except BaseException:
        conn.close()
        raise
    return conn


def literal(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def _credentials() -> tuple[str, str, str] | None:
    """Key id, secret and session token from the environment, else from the AWS profile."""
    key, secret = os.environ.get("AWS_ACCESS_KEY_ID"), os.environ.get("AWS_SECRET_ACCESS_KEY")
    if key and secret:
        return key, secret, os.environ.get("AWS_SESSION_TOKEN", "")
    path = Path(os.environ.get("AWS_SHARED_CREDENTIALS_FILE", "~/.aws/credentials")).expanduser()
    profiles = configparser.ConfigParser()
    try:
        profiles.read(path)
    except configparser.Error:
        return None
    section = os.environ.get("AWS_PROFILE", "default")
    if profiles.has_option(section, "aws_access_key_id") and profiles.has_option(section, "aws_secret_access_key"):
        return (profiles.get(section, "aws_access_key_id"), profiles.get(section, "aws_secret_access_key"),
                profiles.get(section, "aws_session_token", fallback=""))  # fmt: skip
    return None


def _s3_secret(conn: duckdb.DuckDBPyConnection) -> None:
    options = [
        "TYPE s3",
        f"REGION {literal(os.environ.get('AWS_REGION') or os.environ.get('AWS_DEFAULT_REGION') or 'us-east-1')}",
    ]
    credentials = _credentials()
    if credentials is not None:
        key, secret, token = credentials
        options += [f"KEY_ID {literal(key)}", f"SECRET {literal(secret)}"]
        if token:
            options.append(f"SESSION_TOKEN {literal(token)}")
    endpoint = os.environ.get("AWS_ENDPOINT_URL_S3") or os.environ.get("AWS_ENDPOINT_URL")
    if endpoint:
        parts = urlsplit(endpoint if "://" in endpoint else f"https://{endpoint}")
        options += [f"ENDPOINT {literal(parts.netloc)}", "URL_STYLE 'path'",
                    f"USE_SSL {'true' if parts.scheme == 'https' else 'false'}"]  # fmt: skip
    try:
        conn.execute(f"CREATE SECRET eocat_s3 ({', '.join(options)})")
    except duckdb.Error:
        raise EocatError("DuckDB refused the S3 settings from the AWS_* environment variables") from None
