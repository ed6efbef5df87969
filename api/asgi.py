"""ASGI entry for servers that import an app object (``uvicorn api.asgi:app``); settings from the
environment. Importing this module builds the engine: import it only to serve."""
from .app import create_app

app = create_app()
