"""The fetch layer: materialize any catalogue asset on demand — resumable, verified, concurrent.

Python API (notebooks)::

    from catalog import Store
    from catalog.fetch import fetch, fetch_one
    report = fetch(Store("data/eocat.db"), "S2A_MSIL2A_…", asset="SCL")   # a FetchReport
    path = fetch_one(Store("data/eocat.db"), "S2A_MSIL2A_…", "product")    # a Path, or an EocatError

What the machinery does for every asset (``catalog/fetch``):

* local asset store ``<db dir>/assets/<collection>/<item>/<file>`` (``$EOCAT_ASSET_DIR`` or ``dest=``);
  bytes arrive in ``.partial/…/<asset>.part``, are streamed in 1 MiB chunks (constant memory), resumed
  with HTTP Range after a crash or a dropped connection, verified against ``file:size`` and
  ``file:checksum`` (multihash MD5 ``d50110…``, BLAKE3 ``1e20…``), then fsync'ed and atomically renamed.
  A mismatch moves the bytes to ``.quarantine/`` and fails: nothing unverified is ever published.
* retries (429/5xx/dropped connections) with backoff and ``Retry-After``; per-host connection limits
  (CDSE: 4) shared by a pool of ``jobs`` workers; rich progress; server file names (Content-Disposition)
  sanitized so nothing lands outside the store.
* the local copy is recorded in the catalogue as ``assets[key].alternate.local`` (alternate-assets
  extension) with ``file:size`` and ``file:checksum``; a later fetch finds it and moves no bytes.

Plugging in a protocol (how providers extend it)
------------------------------------------------

An asset's ``eocat:protocol`` selects a *step* (absent or ``"http"``: plain GET of ``href``). A provider
module exposes ``register()`` under the ``eocat.fetch`` entry-point group (``pyproject.toml``) and calls:

* ``register_step(protocol, step)`` where ``step(job: Job) -> Delivery``. The step must put the asset's
  bytes into ``job.part`` (a :class:`~catalog.fetch.files.PartFile`: ``write(bytes)``, ``size``,
  ``restart()``); when ``job.part.size > 0`` it may resume from there, or call ``restart()``. It reports
  progress through ``job.bar`` (``total(n)``, ``advance(n)``). HTTP steps should use
  :func:`catalog.fetch.http.download` (redirects, auth per hop, Range, retries), which does all of that.
  A step that produces a file another way (e.g. ``"destine-frame"``: decode a video frame, write a COG)
  writes the finished bytes through ``job.part.write`` as well; the machinery verifies, publishes and
  records. It returns a :class:`Delivery` (``disposition``: a Content-Disposition value for the file name,
  ``media_type``, ``length``). Raise :class:`FetchError` subclasses with clear messages.
* ``register_auth(scheme, factory)`` for ``auth:refs`` names (``oidc``, ``earthdata``, ``desp``):
  ``factory(session, scheme_document) -> Authenticator`` with ``headers(url) -> dict`` (credentials only
  for hosts that may see them) and ``renew(response) -> bool`` (after 401/403). One instance per run.
* ``register_planner(protocol, planner)``: ``planner(targets, session)`` sees every ``(item, key)`` of that
  protocol a run will fetch before any step starts, so a step can batch (DestinE decodes all requested frames
  of one video in one pass); plans live in ``session.state`` (closed with the session).
* ``register_resolver(resolver)`` to turn a key the item lacks (``SCL``) or a node pattern into a new asset.
* ``register_host_limits(lambda: {"host:port or glob": n})``.
"""

from catalog.fetch.api import (
    FetchReport,
    FetchResult,
    asset_root,
    fetch,
    fetch_items,
    fetch_one,
    find_item,
    local_copy,
    new_session,
    store_materializer,
)
from catalog.fetch.errors import AuthFailed, Busy, FetchError, Missing, NotFetchable, VerificationFailed
from catalog.fetch.job import Delivery, Job, Planner, Resolver, Step
from catalog.fetch.registry import (
    register_auth,
    register_host_limits,
    register_planner,
    register_resolver,
    register_step,
)
from catalog.fetch.session import Authenticator, FetchSession

__all__ = [
    "AuthFailed",
    "Authenticator",
    "Busy",
    "Delivery",
    "FetchError",
    "FetchReport",
    "FetchResult",
    "FetchSession",
    "Job",
    "Missing",
    "NotFetchable",
    "Planner",
    "Resolver",
    "Step",
    "VerificationFailed",
    "asset_root",
    "fetch",
    "fetch_items",
    "fetch_one",
    "find_item",
    "local_copy",
    "new_session",
    "register_auth",
    "register_host_limits",
    "register_planner",
    "register_resolver",
    "register_step",
    "store_materializer",
]
