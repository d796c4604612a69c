"""Errors of the provider side."""

from catalog.errors import EocatError


class UpstreamError(EocatError):
    """An upstream service kept failing (after retries) or answered something unusable."""


class AuthError(EocatError):
    """Credentials are missing or were refused."""
