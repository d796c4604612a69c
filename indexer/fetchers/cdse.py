"""CDSE fetch plugin: the ``oidc`` authenticator, the ``cdse-burst`` step and files inside products (Nodes).

* ``oidc``: a Keycloak Bearer token (``CDSE_USERNAME``/``CDSE_PASSWORD`` or ~/.netrc), sent only to CDSE hosts
  (the configured catalogue/download/token hosts and ``*.dataspace.copernicus.eu``), also on every redirect
  hop between them; refreshed when it expires and after a 401 (``Expired signature!``).
* products: ``product`` assets are plain ``http`` assets with ``auth:refs: [oidc]`` (generic step).
* ``cdse-burst``: POST ``Bursts(<Id>)/$value``, re-POST on redirect with the token, zip named by the server.
* Nodes: ``--asset SCL`` (an alias from :data:`NODE_ALIASES`) or ``--node PATTERN`` (a glob on the path below
  the SAFE root, e.g. ``GRANULE/*/IMG_DATA/R20m/*_SCL_20m.jp2``) walks ``Products(<Id>)/Nodes`` and adds an
  asset for that one file (href ``…/Nodes(…)/$value``), so only that file is transferred.
"""

from __future__ import annotations

import fnmatch
import mimetypes
from collections.abc import Mapping
from typing import Any

import httpx

from catalog.fetch import (
    AuthFailed,
    Delivery,
    FetchError,
    FetchSession,
    Job,
    NotFetchable,
    register_auth,
    register_host_limits,
    register_resolver,
    register_step,
)
from catalog.fetch.http import download
from catalog.http import UpstreamError, redact, request
from indexer.auth import TokenProvider, find_credentials
from indexer.endpoints import endpoint

CDSE_HOSTS = ("*.dataspace.copernicus.eu",)
DOWNLOAD_LIMIT = 4  # concurrent download connections of a Copernicus General user
BURST_TIMEOUT = 600.0  # seconds without a byte: extraction happens during the request

# Files inside products, by a short name: glob patterns on the path below the SAFE root, tried in order.
NODE_ALIASES: dict[str, tuple[str, ...]] = {
    "SCL": ("GRANULE/*/IMG_DATA/R20m/*_SCL_20m.jp2",),
    "TCI": ("GRANULE/*/IMG_DATA/R10m/*_TCI_10m.jp2", "GRANULE/*/IMG_DATA/*_TCI.jp2"),
    "AOT": ("GRANULE/*/IMG_DATA/R10m/*_AOT_10m.jp2",),
    "WVP": ("GRANULE/*/IMG_DATA/R10m/*_WVP_10m.jp2",),
    **{
        band: (f"GRANULE/*/IMG_DATA/R{res}m/*_{band}_{res}m.jp2", f"GRANULE/*/IMG_DATA/*_{band}.jp2")
        for band, res in {
            "B01": 60,
            "B02": 10,
            "B03": 10,
            "B04": 10,
            "B05": 20,
            "B06": 20,
            "B07": 20,
            "B08": 10,
            "B8A": 20,
            "B09": 60,
            "B11": 20,
            "B12": 20,
        }.items()
    },
    "CLD": ("GRANULE/*/QI_DATA/MSK_CLDPRB_20m.jp2",),
    "MTD": ("MTD_MSIL2A.xml", "MTD_MSIL1C.xml"),
    "MTD_TL": ("GRANULE/*/MTD_TL.xml",),
    "manifest": ("manifest.safe",),
}


def cdse_hosts() -> list[str]:
    """Hosts (``host[:port]``) that may see the CDSE token."""
    hosts = [httpx.URL(endpoint(name)).netloc.decode() for name in ("cdse_catalogue", "cdse_download", "cdse_token")]
    return [*dict.fromkeys(hosts), *CDSE_HOSTS]


def _trusted(url: httpx.URL, hosts: list[str]) -> bool:
    netloc, host = url.netloc.decode().lower(), (url.host or "").lower()
    return any(netloc == h or fnmatch.fnmatchcase(host, h) for h in hosts)


class OidcAuth:
    """The CDSE Bearer token for CDSE hosts only; one token provider (one login) per run."""

    def __init__(self, session: FetchSession, document: Mapping[str, Any]) -> None:
        token_url = endpoint("cdse_token")
        credentials = find_credentials("CDSE", token_url)
        if credentials is None:
            raise AuthFailed("CDSE credentials missing: set CDSE_USERNAME and CDSE_PASSWORD (or a ~/.netrc entry)")
        self.provider = TokenProvider(token_url, credentials)
        self.hosts = cdse_hosts()

    def headers(self, url: httpx.URL) -> dict[str, str]:
        if not _trusted(url, self.hosts):
            return {}
        return {"Authorization": f"Bearer {self.provider.access_token()}"}

    def renew(self, response: httpx.Response | None) -> bool:
        self.provider.invalidate()
        return True

    def close(self) -> None:
        self.provider.close()


def burst_step(job: Job) -> Delivery:
    """``cdse-burst``: POST href with the token, re-POST to the redirect target, stream the zip."""
    return download(job, job.href, method="POST", auth=job.auth(), repost=True, timeout=BURST_TIMEOUT)


# -- Nodes
def _list(session: FetchSession, url: str, auth: OidcAuth | None) -> list[dict[str, Any]]:
    try:
        response = request(
            session.client, "GET", url, headers={"Accept": "application/json"}, auth=auth, follow=True,
            policy=session.policy,
        )  # fmt: skip
    except UpstreamError as exc:
        raise FetchError(f"listing the product's files: {exc}") from None
    if response.status_code != 200:
        raise FetchError(f"listing {redact(url)} answered HTTP {response.status_code}: {response.text[:200]}")
    try:
        result = response.json()["result"]
    except (ValueError, KeyError, TypeError):
        raise FetchError(f"listing {redact(url)} is not a Nodes listing") from None
    return [n for n in result if isinstance(n, dict)]


def node_files(session: FetchSession, nodes_href: str, auth: OidcAuth | None) -> dict[str, dict[str, Any]]:
    """Every file of a product tree: path below the root -> listing entry (with ``uri``); cached per run."""
    cache: dict[str, dict[str, dict[str, Any]]] = session.state.setdefault("cdse-nodes", {})
    if nodes_href in cache:
        return cache[nodes_href]
    files: dict[str, dict[str, Any]] = {}
    roots = _list(session, nodes_href, auth)
    pending: list[tuple[str | None, dict[str, Any]]] = [(None, root) for root in roots]
    while pending:
        prefix, node = pending.pop()
        uri = str((node.get("Nodes") or {}).get("uri") or "")
        # paths start below the root (the SAFE directory itself)
        path = None if prefix is None else f"{prefix}/{node['Name']}" if prefix else str(node["Name"])
        if node.get("ChildrenNumber"):
            pending += [(path or "", child) for child in _list(session, uri, auth)]
        elif path:
            files[path] = {**node, "uri": uri.removesuffix("/Nodes")}
    cache[nodes_href] = files
    return files


def resolve_node(
    item: dict[str, Any], key: str | None, pattern: str | None, session: FetchSession
) -> tuple[str, dict[str, Any]] | None:
    """A new asset for one file inside a CDSE product (by alias ``key`` or glob ``pattern``)."""
    nodes = item.get("assets", {}).get("nodes")
    if nodes is None or "href" not in nodes:
        return None
    if pattern is None and (key is None or key not in NODE_ALIASES):
        return None
    patterns = (pattern,) if pattern is not None else NODE_ALIASES[str(key)]
    files = node_files(session, str(nodes["href"]), None)  # listing needs no auth
    for candidate in patterns:
        matches = sorted(
            p for p in files if fnmatch.fnmatchcase(p, candidate) or fnmatch.fnmatchcase(p, f"*/{candidate}")
        )
        if len(matches) > 1:
            shown = ", ".join(matches[:5])
            raise NotFetchable(f"{item['id']}: {candidate!r} matches {len(matches)} files ({shown} …); be more precise")
        if matches:
            path = matches[0]
            entry = files[path]
            name = path.rsplit("/", 1)[-1]
            asset_key = key or name.rsplit(".", 1)[0]
            media_type = {"jp2": "image/jp2", "safe": "application/xml"}.get(name.rsplit(".", 1)[-1].lower())
            asset: dict[str, Any] = {
                "href": f"{entry['uri']}/$value",
                "type": media_type or mimetypes.guess_type(name)[0] or "application/octet-stream",
                "title": path,
                "roles": ["data"],
                "auth:refs": ["oidc"],
                "file:local_path": name,
                "cdse:node_path": path,
            }
            if isinstance(entry.get("ContentLength"), int) and entry["ContentLength"] > 0:
                asset["file:size"] = entry["ContentLength"]
            return asset_key, asset
    return None


def host_limits() -> dict[str, int]:
    """CDSE allows 4 concurrent download connections per user."""
    return dict.fromkeys(cdse_hosts(), DOWNLOAD_LIMIT)


def register() -> None:
    """Entry point of the ``eocat.fetch`` plugin group."""
    register_auth("oidc", OidcAuth)
    register_step("cdse-burst", burst_step)
    register_resolver(resolve_node)
    register_host_limits(host_limits)
