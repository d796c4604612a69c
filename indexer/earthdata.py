"""Earthdata Login (EDL) for ASF downloads: the ``asf-urs`` cookie, obtained once per run.

Credentials: ``EARTHDATA_USERNAME``/``EARTHDATA_PASSWORD`` (or the ~/.netrc entry of the EDL host), or
``EARTHDATA_TOKEN`` (an EDL user token). They are never logged, stored or put in URLs.

* Username/password: follow the extractor's redirect to ASF's login service hop by hop, sending HTTP Basic
  **only to the EDL host**, until the login service sets ``asf-urs`` (``reference/asf.md`` §5.2). Without
  such a redirect at hand: ``find_or_create_token`` (Basic) and then the token route below.
* Token: ``GET`` a TEA-protected ASF file (``$EOCAT_ASF_COOKIE_URL``) with ``Authorization: Bearer <token>``;
  the answer sets ``asf-urs`` (the burst2safe workaround; asf_search's token login does not set it).

One login serves every job of the run; concurrent jobs that hit a 403 together trigger a single re-login.
"""

from __future__ import annotations

import os
import threading

import httpx

from catalog.fetch import AuthFailed
from indexer.auth import Credentials, find_credentials
from indexer.endpoints import endpoint

COOKIE = "asf-urs"
DEFAULT_COOKIE_URL = (
    "https://sentinel1.asf.alaska.edu/METADATA_RAW/SA/"
    "S1A_IW_RAW__0SSV_20141229T072718_20141229T072750_003931_004B96_B79F.iso.xml"
)
DEFAULT_AUTH_URL = "https://auth.asf.alaska.edu"
MAX_HOPS = 12


def cookie_url() -> str:
    """A TEA-protected ASF file that trades an EDL bearer token for the ``asf-urs`` cookie."""
    return os.environ.get("EOCAT_ASF_COOKIE_URL") or DEFAULT_COOKIE_URL


def auth_url() -> str:
    """ASF's login service (``/loginservice/in/…``)."""
    return (os.environ.get("EOCAT_ASF_AUTH_URL") or DEFAULT_AUTH_URL).rstrip("/")


def _cookie_of(response: httpx.Response) -> str | None:
    for value in response.headers.get_list("set-cookie"):
        name, _, rest = value.partition("=")
        if name.strip() == COOKIE:
            cookie = rest.split(";", 1)[0].strip()
            if cookie and cookie != "expired":
                return cookie
    return None


class EarthdataLogin:
    """The run's ``asf-urs`` cookie; :meth:`login` is thread-safe and logs in once per generation."""

    def __init__(
        self,
        client: httpx.Client,
        *,
        credentials: Credentials | None = None,
        token: str | None = None,
        edl_url: str | None = None,
    ) -> None:
        self.client = client
        self.edl_url = (edl_url or endpoint("edl")).rstrip("/")
        self.credentials = credentials
        self.token = token
        self.cookie: str | None = None
        self.generation = 0
        self.logins = 0
        self._lock = threading.Lock()

    @classmethod
    def from_environment(cls, client: httpx.Client) -> EarthdataLogin:
        """Credentials from ``EARTHDATA_TOKEN``, ``EARTHDATA_USERNAME``/``_PASSWORD`` or ~/.netrc."""
        edl = endpoint("edl")
        token = os.environ.get("EARTHDATA_TOKEN") or None
        credentials = None if token else find_credentials("EARTHDATA", edl)
        if token is None and credentials is None:
            raise AuthFailed(
                "Earthdata credentials missing: set EARTHDATA_USERNAME and EARTHDATA_PASSWORD, or EARTHDATA_TOKEN "
                "(or a ~/.netrc entry for urs.earthdata.nasa.gov)"
            )
        return cls(client, credentials=credentials, token=token, edl_url=edl)

    def login(self, location: str | None = None, seen: int | None = None) -> None:
        """Get a fresh cookie, unless another job already did since generation ``seen``."""
        with self._lock:
            if seen is not None and seen != self.generation and self.cookie:
                return
            self.cookie = None
            if self.token is not None:
                self.cookie = self._from_token(self.token)
            elif location is not None:
                self.cookie = self._follow(location)
            else:
                self.cookie = self._from_token(self._create_token())
            self.generation += 1
            self.logins += 1

    def _is_edl(self, url: httpx.URL) -> bool:
        return url.netloc == httpx.URL(self.edl_url).netloc

    def _basic(self) -> httpx.BasicAuth:
        assert self.credentials is not None
        return httpx.BasicAuth(self.credentials.username, self.credentials.password)

    def _follow(self, location: str) -> str:
        """Walk the login redirect chain; Basic goes to the EDL host only; stop once the cookie is set."""
        url = httpx.URL(location)
        for _ in range(MAX_HOPS):
            auth = self._basic() if self._is_edl(url) else None
            response = self.client.get(url, auth=auth or httpx.USE_CLIENT_DEFAULT, follow_redirects=False)
            cookie = _cookie_of(response)
            if cookie is not None:
                return cookie
            if response.status_code in (401, 403):
                raise AuthFailed(
                    f"Earthdata Login refused the credentials of {self.credentials.username!r}"  # type: ignore[union-attr]
                    " (check EARTHDATA_USERNAME/EARTHDATA_PASSWORD)"
                )
            if response.status_code not in (301, 302, 303, 307, 308) or "location" not in response.headers:
                break
            url = url.join(response.headers["location"])
        raise AuthFailed("the ASF login service did not set the asf-urs cookie")

    def _create_token(self) -> str:
        response = self.client.post(f"{self.edl_url}/api/users/find_or_create_token", auth=self._basic())
        if response.status_code != 200:
            raise AuthFailed(f"Earthdata Login refused the credentials (HTTP {response.status_code})")
        return str(response.json()["access_token"])

    def _from_token(self, token: str) -> str:
        response = self.client.get(cookie_url(), headers={"Authorization": f"Bearer {token}"}, follow_redirects=False)
        cookie = _cookie_of(response)
        if cookie is None:
            raise AuthFailed(
                f"the Earthdata token was not accepted by {httpx.URL(cookie_url()).host} "
                f"(HTTP {response.status_code}); check EARTHDATA_TOKEN"
            )
        return cookie
