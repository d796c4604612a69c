"""Errors of the provider side (``UpstreamError`` is the HTTP layer's, :mod:`catalog.http`)."""

from catalog.errors import EocatError
from catalog.http import UpstreamError

__all__ = ["AuthError", "UpstreamError"]


class AuthError(EocatError):
    """Credentials are missing or were refused."""
