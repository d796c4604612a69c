"""``CdseEmulator``: the CDSE catalogue, identity and download services on 127.0.0.1, in a background thread."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

import orjson

from emulators.cdse.app import AppConfig, CdseApp
from emulators.cdse.bursts import BurstCatalogue
from emulators.cdse.faults import FaultPlan, RequestStats
from emulators.cdse.fixtures_loader import product_records
from emulators.cdse.grd.product import GrdProduct
from emulators.cdse.grd.safe import GrdScene
from emulators.cdse.product import Product, RecordProduct
from emulators.cdse.server import Served
from emulators.cdse.store import OrderBy, ProductStore
from emulators.cdse.synthetic import SyntheticProduct, SyntheticProducts
from emulators.cdse.tokens import Clock, TokenService
from emulators.odata import parse_datetime

if TYPE_CHECKING:
    from emulators.s1truth import SyntheticBursts

TOKEN_PATH = "/auth/realms/CDSE/protocol/openid-connect/token"


class CdseEmulator(Served):
    """A faithful local stand-in for CDSE OData + Keycloak (+ zipper downloads).

    ``products``: one or more :class:`SyntheticProducts` recipes (None = fixtures only).
    ``include_fixtures``: add the recorded products (served verbatim). ``records``: extra recorded-style
    product dicts. ``credentials``: ``{username: password}`` to check (None = any non-empty pair);
    ``totp``: a required one-time code. ``range_mode``: ``ignore`` | ``honour`` | ``reject`` for
    downloads with ``Range``. ``reserialise_nextlink``: write ``lt`` datetimes with microseconds in
    nextLink, as recorded. ``rewrite_links``: point ``DownloadLink``s at the emulator.
    ``bursts``: the burst ground truth whose CDSE part ``/Bursts`` serves (with the recorded burst when
    ``include_fixtures``). ``grd_scenes``: Sentinel-1 GRDs with real SAFE content (emulators/cdse/grd),
    served through Nodes and $value.
    """

    thread_name = "cdse-emulator"

    def __init__(
        self,
        products: SyntheticProducts | Sequence[SyntheticProducts] | None = None,
        include_fixtures: bool = True,
        host: str = "127.0.0.1",
        port: int = 0,
        records: Iterable[Mapping[str, Any]] = (),
        credentials: Mapping[str, str] | None = None,
        totp: str | None = None,
        access_lifetime: int = 600,
        refresh_lifetime: int = 3600,
        fault_seed: int = 0,
        range_mode: str = "ignore",
        reserialise_nextlink: bool = True,
        rewrite_links: bool = False,
        bursts: SyntheticBursts | None = None,
        grd_scenes: Iterable[GrdScene] = (),
    ) -> None:
        if range_mode not in ("ignore", "honour", "reject"):
            raise ValueError("range_mode must be ignore, honour or reject")
        recipes = [products] if isinstance(products, SyntheticProducts) else list(products or [])
        items: list[Product] = [RecordProduct(r) for r in product_records()] if include_fixtures else []
        items += [RecordProduct(dict(r)) for r in records]
        for recipe in recipes:
            items += recipe.generate()
        items += [GrdProduct(scene) for scene in grd_scenes]
        self.store = ProductStore(items)
        self.host = host
        self.port = port
        self.clock = Clock()
        self.faults = FaultPlan(fault_seed)
        self.requests = RequestStats()
        self.tokens = TokenService(
            self.clock,
            issuer="",
            credentials=credentials,
            totp=totp,
            access_lifetime=access_lifetime,
            refresh_lifetime=refresh_lifetime,
        )
        self._config = AppConfig("", range_mode, reserialise_nextlink, rewrite_links)
        self.app = CdseApp(self.store, self.tokens, self._config)
        self.app.bursts = BurstCatalogue.build(bursts, include_fixtures)

    # -- lifecycle
    def _bound(self) -> None:
        self._config.base_url = f"http://{self.host}:{self.port}"
        self.tokens.issuer = f"{self._config.base_url}/auth/realms/CDSE"

    # -- URLs
    @property
    def base_url(self) -> str:
        """``http://127.0.0.1:PORT`` (after start)."""
        if not self._config.base_url:
            raise RuntimeError("the emulator is not started")
        return self._config.base_url

    @property
    def catalogue_url(self) -> str:
        """For ``EOCAT_CDSE_CATALOGUE_URL``."""
        return f"{self.base_url}/odata/v1"

    @property
    def token_url(self) -> str:
        """For ``EOCAT_CDSE_TOKEN_URL``."""
        return f"{self.base_url}{TOKEN_PATH}"

    @property
    def download_url(self) -> str:
        """For ``EOCAT_CDSE_DOWNLOAD_URL`` (the zipper host, as a path prefix)."""
        return f"{self.base_url}/zipper/odata/v1"

    @property
    def openid_url(self) -> str:
        """The OIDC discovery document."""
        return f"{self.base_url}/auth/realms/CDSE/.well-known/openid-configuration"

    def environment(self) -> dict[str, str]:
        """The ``EOCAT_CDSE_*`` variables pointing eocat at this emulator."""
        return {
            "EOCAT_CDSE_CATALOGUE_URL": self.catalogue_url,
            "EOCAT_CDSE_TOKEN_URL": self.token_url,
            "EOCAT_CDSE_DOWNLOAD_URL": self.download_url,
        }

    # -- tokens
    def validate_token(self, token: str) -> bool:
        """True while ``token`` is a live access token issued by this emulator."""
        return self.tokens.validate(token)

    # -- ground truth
    def records(
        self, filter_text: str | None = None, expand: Sequence[str] = ("Attributes",), orderby: OrderBy = ()
    ) -> list[dict[str, Any]]:
        """Every record the server matches for ``filter_text`` (all pages), rendered with ``expand`` (copies)."""
        records: list[dict[str, Any]] = orjson.loads(
            orjson.dumps(self.store.render(self.store.query(filter_text, orderby), expand))
        )
        return records

    def ids(self, filter_text: str | None = None) -> list[str]:
        """Ids of the matching products, in (ContentDate/Start, Id) order."""
        products = self.store.products
        return [products[i].id for i in self.store.query(filter_text)]

    def count(self, filter_text: str | None = None) -> int:
        """Number of matching products (what ``$count=true`` reports)."""
        return len(self.store.query(filter_text))

    def malformed(self, filter_text: str | None = None) -> dict[str, str]:
        """Id -> malformation of the deliberately broken products that match."""
        products = self.store.products
        return {
            products[i].id: str(products[i].malformed)
            for i in self.store.query(filter_text)
            if products[i].malformed is not None
        }

    def product(self, product_id: str) -> Product | None:
        """The stored product (for tests that need underlying values)."""
        return self.store.get(product_id)

    # -- changing the catalogue (incremental harvests)
    def add(self, products: SyntheticProducts | None = None, records: Iterable[Mapping[str, Any]] = ()) -> list[str]:
        """Publish more products; returns their Ids."""
        new: list[Product] = [RecordProduct(dict(r)) for r in records]
        if products is not None:
            new += products.generate()
        self.store.replace([*self.store.products, *new])
        return [p.id for p in new]

    def touch(self, ids: Iterable[str], when: str) -> None:
        """Set ``ModificationDate`` of products to ``when`` (e.g. a reprocessing), as a new catalogue state."""
        t = parse_datetime(when)
        wanted = {i.lower() for i in ids}
        for p in self.store.products:
            if p.id in wanted:
                p.modification = t
                if isinstance(p, RecordProduct):
                    p.record["ModificationDate"] = when
        self.store.replace(self.store.products)

    def remove(self, ids: Iterable[str]) -> None:
        """Delete products from the catalogue."""
        wanted = {i.lower() for i in ids}
        self.store.replace([p for p in self.store.products if p.id not in wanted])


__all__ = ["CdseEmulator", "SyntheticProduct", "SyntheticProducts"]
