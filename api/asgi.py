"""ASGI entry for servers that import an app object (``uvicorn api.asgi:app``, and every worker of
``meterread serve``); settings from the environment. Importing this module builds the engine and sets the
numerical libraries to one thread: import it only to serve."""
from recognizer.workers import one_thread_per_process

one_thread_per_process()

from .app import create_app  # noqa: E402

app = create_app()
