"""HTTP errors with the bodies CDSE sends (FastAPI/pydantic style for the catalogue)."""

from __future__ import annotations

from typing import Any


class HttpError(Exception):
    """An error response: status, JSON body and optional extra headers."""

    def __init__(self, status: int, body: Any, headers: dict[str, str] | None = None) -> None:
        super().__init__(f"HTTP {status}: {body}")
        self.status = status
        self.body = body
        self.headers = headers or {}


def detail(status: int, message: str) -> HttpError:
    """``{"detail": message}`` with ``status``."""
    return HttpError(status, {"detail": message})


def validation(errors: list[dict[str, Any]]) -> HttpError:
    """422 with pydantic's ``{"detail": [...]}``."""
    return HttpError(422, {"detail": errors})


def less_equal(param: str, raw: str, limit: int) -> dict[str, Any]:
    """The pydantic item for a query parameter above ``limit`` (verbatim shape of the recorded $skip error)."""
    return {
        "type": "less_than_equal",
        "loc": ["query", param],
        "msg": f"Input should be less than or equal to {limit}",
        "input": raw,
        "ctx": {"le": limit},
    }


def greater_equal(param: str, raw: str, limit: int) -> dict[str, Any]:
    """The pydantic item for a query parameter below ``limit``."""
    return {
        "type": "greater_than_equal",
        "loc": ["query", param],
        "msg": f"Input should be greater than or equal to {limit}",
        "input": raw,
        "ctx": {"ge": limit},
    }


def int_parsing(param: str, raw: str) -> dict[str, Any]:
    """The pydantic item for a non-integer query parameter."""
    return {
        "type": "int_parsing",
        "loc": ["query", param],
        "msg": "Input should be a valid integer, unable to parse string as an integer",
        "input": raw,
    }


def bool_parsing(param: str, raw: str) -> dict[str, Any]:
    """The pydantic item for a non-boolean query parameter."""
    return {
        "type": "bool_parsing",
        "loc": ["query", param],
        "msg": "Input should be a valid boolean, unable to interpret input",
        "input": raw,
    }
