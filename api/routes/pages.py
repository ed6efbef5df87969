"""Web pages: static HTML shells (Jinja2) whose JavaScript calls the JSON API with the user's bearer token.

Nothing here reads the database or the token: the shells are the same for everyone and carry no data, so
they are served without authentication; every piece of data comes from ``/api/...`` after sign-in.
Templates live in ``api/templates``, scripts and styles in ``api/static`` (a flat folder, no build step).
"""
from __future__ import annotations

import functools
import hashlib

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response
from fastapi.templating import Jinja2Templates

from ..db import API_DIR

STATIC_DIR = API_DIR / "static"
TEMPLATES_DIR = API_DIR / "templates"

router = APIRouter(include_in_schema=False)
templates = Jinja2Templates(directory=str(TEMPLATES_DIR))

# No inline script or style anywhere: images come from the API as blobs (they need the bearer token).
SECURITY_HEADERS = {
    "Content-Security-Policy": (
        "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' blob: data:; "
        "connect-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
    ),
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
    "X-Frame-Options": "DENY",
    # the shells carry no data, but a stale shell could pair with newer scripts: always revalidate
    "Cache-Control": "no-cache",
}


@functools.lru_cache(maxsize=None)
def _fingerprint(name: str) -> str:
    path = (STATIC_DIR / name).resolve()
    if STATIC_DIR.resolve() not in path.parents or not path.is_file():
        return "0"
    return hashlib.sha256(path.read_bytes()).hexdigest()[:10]


def asset(name: str) -> str:
    """``/static/name?v=<content hash>``: phones may cache scripts for long, a new version busts the cache."""
    return f"/static/{name}?v={_fingerprint(name)}"


templates.env.globals["asset"] = asset

PAGES = {
    "signin": ("signin.html", "Sign in"),
    "customer": ("customer.html", "My meter"),
    "reviewer": ("reviewer.html", "Review queue"),
    "operator": ("operator.html", "Operator"),
}


def _page(request: Request, page: str) -> HTMLResponse:
    template, title = PAGES[page]
    response = templates.TemplateResponse(request, template, {"page": page, "title": title})
    response.headers.update(SECURITY_HEADERS)
    return response


@router.get("/", response_class=HTMLResponse)
def signin(request: Request) -> HTMLResponse:
    """Sign-in; once signed in, the script sends the user to the page of their role."""
    return _page(request, "signin")


@router.get("/customer", response_class=HTMLResponse)
def customer(request: Request) -> HTMLResponse:
    """Photograph a meter, check the digits, confirm; manual entry; history with a chart."""
    return _page(request, "customer")


@router.get("/reviewer", response_class=HTMLResponse)
def reviewer(request: Request) -> HTMLResponse:
    """The review queue, driven from the keyboard."""
    return _page(request, "reviewer")


@router.get("/operator", response_class=HTMLResponse)
def operator(request: Request) -> HTMLResponse:
    """Accounts, meters and people (minimal)."""
    return _page(request, "operator")


@router.get("/favicon.ico")
def favicon() -> Response:
    return Response(status_code=204)
