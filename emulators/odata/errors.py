"""The one error type of the OData filter package."""

from __future__ import annotations


class FilterError(ValueError):
    """A ``$filter`` that cannot be parsed or does not fit the schema; ``str()`` is client-facing."""

    def __init__(self, message: str, position: int | None = None, text: str | None = None) -> None:
        self.position = position
        if position is not None and text is not None:
            snippet = text[max(0, position - 20) : position + 20]
            message = f"{message} (at position {position}: ...{snippet}...)"
        super().__init__(message)
