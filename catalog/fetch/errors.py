"""Errors of the fetch layer: each says what went wrong with which asset and what to do."""

from __future__ import annotations

from catalog.errors import EocatError


class FetchError(EocatError):
    """An asset could not be materialized (upstream refused, retries exhausted, bad answer …)."""


class NotFetchable(FetchError):
    """The asset has no href, an unknown ``eocat:protocol`` or no such asset exists."""

    exit_code = 3


class Missing(FetchError):
    """The upstream has no such file (HTTP 404 or 410): retrying will not help."""

    exit_code = 3


class AuthFailed(FetchError):
    """The upstream refused the credentials (after re-authenticating once), or none are configured."""


class VerificationFailed(FetchError):
    """The downloaded bytes do not match ``file:size`` / ``file:checksum``; the file was quarantined."""


class Busy(FetchError):
    """Another process is fetching the same asset right now."""
