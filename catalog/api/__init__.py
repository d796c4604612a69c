"""The STAC API over an eocat catalogue (Starlette, served by uvicorn); also serves STAC Browser."""

from catalog.api.app import ApiConfig, create_app

__all__ = ["ApiConfig", "create_app"]
