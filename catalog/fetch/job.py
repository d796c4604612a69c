"""What a protocol step receives (a :class:`Job`) and returns (a :class:`Delivery`)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol

from catalog.fetch.errors import AuthFailed
from catalog.fetch.files import PartFile
from catalog.fetch.progress import Bar
from catalog.fetch.session import Authenticator, FetchSession


@dataclass
class Job:
    """One asset to materialize. Steps write the bytes into ``part`` (resuming from ``part.size``)."""

    item: dict[str, Any]
    key: str
    asset: dict[str, Any]
    session: FetchSession
    part: PartFile
    bar: Bar

    @property
    def href(self) -> str:
        return str(self.asset["href"])

    def auth(self) -> Authenticator | None:
        """The authenticator named by the asset's ``auth:refs`` (None when it has none)."""
        refs = self.asset.get("auth:refs") or []
        if not refs:
            return None
        scheme = str(refs[0])
        schemes: Mapping[str, Any] = self.item.get("properties", {}).get("auth:schemes") or {}
        document = schemes.get(scheme)
        if document is None:
            raise AuthFailed(f"asset {self.key!r} names auth scheme {scheme!r}, which the item does not define")
        return self.session.authenticator(scheme, document)


@dataclass
class Delivery:
    """What the upstream said about the bytes: its file name (Content-Disposition), type and length."""

    disposition: str | None = None
    media_type: str | None = None
    length: int | None = None
    extra: dict[str, Any] = field(default_factory=dict)


class Step(Protocol):
    """A protocol step: fill ``job.part`` with the asset's bytes (resuming if it is not empty)."""

    def __call__(self, job: Job) -> Delivery: ...


class Planner(Protocol):
    """Sees every ``(item, asset key)`` of its protocol that a run will fetch, before the steps start.

    A protocol that can do many assets in one go (DestinE: many frames of one video in one decoding pass)
    keeps its plan in ``session.state``; its step then serves each job from that plan.
    """

    def __call__(self, targets: list[tuple[dict[str, Any], str]], session: FetchSession) -> None: ...


class Resolver(Protocol):
    """Turns a requested key/pattern an item lacks into a new asset (e.g. a file inside a product).

    Returns ``(key, asset)`` or None when this resolver does not apply.
    """

    def __call__(
        self, item: dict[str, Any], key: str | None, pattern: str | None, session: FetchSession
    ) -> tuple[str, dict[str, Any]] | None: ...
