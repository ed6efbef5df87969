"""meterread's HTTP service: a thin FastAPI layer over :mod:`recognizer`.

``create_app(settings)`` builds the application; nothing (engine, folders) is created at import time.
"""
from .settings import Settings

__all__ = ["Settings", "create_app"]


def create_app(settings: Settings | None = None):
    from .app import create_app as _create_app

    return _create_app(settings)
