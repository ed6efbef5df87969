"""The application factory: ``create_app(settings)`` builds engine, folders and routes on call."""
from __future__ import annotations

import importlib
import importlib.util
import logging
from contextlib import asynccontextmanager

from fastapi import FastAPI, Request
from fastapi.encoders import jsonable_encoder
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, RedirectResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from .db import API_DIR, make_engine, make_sessionmaker, migrate
from .errors import ApiError
from .files import PhotoStore
from .routes import API_ROUTERS
from .settings import Settings

log = logging.getLogger("meterread.api")

DESCRIPTION = """Read utility meters from photos.

Customers upload a photo (`POST /api/meters/{id}/photos`), get a draft reading, confirm or correct it
(`POST /api/drafts/{id}/confirm`); doubtful readings go to the review queue (`/api/review/queue`).
Log in with `POST /api/auth/token` (the *Authorize* button) to try the endpoints here.
"""


def _error(status_code: int, detail, headers=None, **extra) -> JSONResponse:
    return JSONResponse({"detail": detail, **extra}, status_code=status_code, headers=headers)


def _install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(ApiError)
    async def api_error(_: Request, exc: ApiError):
        extra = {"code": exc.code} if exc.code else {}
        return _error(exc.status_code, exc.detail, exc.headers, **extra)

    @app.exception_handler(RequestValidationError)
    async def validation_error(_: Request, exc: RequestValidationError):
        errors = jsonable_encoder(exc.errors(), custom_encoder={Exception: str})
        parts = []
        for e in errors:
            where = ".".join(str(x) for x in e.get("loc", ()) if x not in ("body", "query", "path", "header", "form"))
            parts.append(f"{where}: {e.get('msg')}" if where else str(e.get("msg")))
        return _error(422, "; ".join(parts) or "Invalid request.", errors=errors)

    @app.exception_handler(Exception)
    async def internal_error(_: Request, exc: Exception):
        # a bug or an outage (disk full, database gone): JSON like every other error; the server logs the trace
        return _error(500, "Something went wrong on the server; please try again later.", code="internal")

    @app.exception_handler(StarletteHTTPException)
    async def http_error(_: Request, exc: StarletteHTTPException):
        extra = {"code": exc.code} if getattr(exc, "code", None) else {}
        return _error(exc.status_code, exc.detail, getattr(exc, "headers", None), **extra)


def _too_large_detail(max_bytes: int, what: str = "file") -> str:
    if what == "message":
        return f"The message is larger than {max_bytes / 1e6:.1f} MB; it was not read."
    return f"The file is larger than {max_bytes / 1e6:.1f} MB; please send a smaller photo."


class UploadTooLarge(StarletteHTTPException):
    code = "too_large"

    def __init__(self, max_bytes: int, what: str = "file"):
        super().__init__(413, _too_large_detail(max_bytes, what))


MAIL_PATH = "/api/inbound/email"


class UploadLimit:
    """ASGI middleware for photo uploads (``POST .../photos``) and e-mails from the mail gateway (``POST
    /api/inbound/email``): refuses (413) a body whose declared length is over the limit before reading any
    of it, and stops reading one sent without a length (chunked) as soon as it passes the limit, so an
    oversized upload is never spooled to disk or held in memory whole. The routes check sizes again."""

    SLACK = 64 * 1024  # multipart boundaries and form fields around the file

    def __init__(self, app, max_bytes: int, max_mail_bytes: int | None = None):
        self.app = app
        self.max_bytes = max_bytes
        self.max_mail_bytes = max_mail_bytes if max_mail_bytes is not None else max_bytes

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http" or scope["method"] != "POST":
            await self.app(scope, receive, send)
            return
        if scope["path"].endswith("/photos"):
            shown, limit, what = self.max_bytes, self.max_bytes + self.SLACK, "file"
        elif scope["path"] == MAIL_PATH:
            shown, limit, what = self.max_mail_bytes, self.max_mail_bytes, "message"
        else:
            await self.app(scope, receive, send)
            return
        length = dict(scope.get("headers") or ()).get(b"content-length", b"")
        if length.isdigit() and int(length) > limit:
            response = _error(413, _too_large_detail(shown, what), code="too_large")
            await response(scope, receive, send)
            return
        received = 0

        async def limited_receive():
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit:
                    # raised inside the body parsing, which lets HTTP exceptions through: the app answers 413
                    raise UploadTooLarge(shown, what)
            return message

        await self.app(scope, limited_receive, send)


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or Settings.from_env()
    engine = make_engine(settings.db_url)

    @asynccontextmanager
    async def lifespan(app: FastAPI):
        if settings.migrate_on_startup:
            migrate(engine)
        settings.photos_path.mkdir(parents=True, exist_ok=True)
        if settings.reader_processes > 0:
            from .recognition import ReaderPool

            app.state.readers = ReaderPool(settings.reader_processes, settings.recognizer_engine)
            app.state.readers.warm_up()
        try:
            yield
        finally:
            if app.state.readers is not None:
                app.state.readers.shutdown()
                app.state.readers = None
            engine.dispose()

    app = FastAPI(
        title="meterread",
        version="0.1.0",
        description=DESCRIPTION,
        lifespan=lifespan,
        docs_url="/docs",
        openapi_url="/openapi.json",
    )
    app.state.settings = settings
    app.state.engine = engine
    app.state.sessionmaker = make_sessionmaker(engine)
    app.state.photos = PhotoStore(settings.photos_path)
    app.state.readers = None  # the recognizer worker processes, started with the app when configured
    _install_error_handlers(app)

    if settings.cors_origins:
        from fastapi.middleware.cors import CORSMiddleware

        app.add_middleware(
            CORSMiddleware, allow_origins=list(settings.cors_origins), allow_methods=["*"], allow_headers=["*"]
        )

    app.add_middleware(UploadLimit, max_bytes=settings.max_upload_bytes, max_mail_bytes=settings.max_mail_bytes)

    for router in API_ROUTERS:
        app.include_router(router)

    # server-rendered pages (api/routes/pages.py, api/templates, api/static) plug in when present
    if (API_DIR / "static").is_dir():
        from fastapi.staticfiles import StaticFiles

        app.mount("/static", StaticFiles(directory=API_DIR / "static"), name="static")
    if importlib.util.find_spec("api.routes.pages") is not None:
        pages = importlib.import_module("api.routes.pages")
        app.include_router(pages.router)
    if not any(getattr(r, "path", None) == "/" for r in app.routes):

        @app.get("/", include_in_schema=False)
        def root() -> RedirectResponse:
            return RedirectResponse("/docs")

    @app.get("/api/health", tags=["meta"], summary="Liveness check")
    def health() -> dict:
        return {"status": "ok"}

    return app
