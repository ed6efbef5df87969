"""FastAPI dependencies and their readable aliases (``SessionDep``, ``CurrentUser``, ``Reader``...)."""
from __future__ import annotations

import functools
from collections.abc import Callable, Iterator
from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import OAuth2PasswordBearer
from sqlalchemy.orm import Session

from recognizer import ReadResult, RecognizerConfig, read_photo

from . import store
from .errors import ApiError
from .files import PhotoStore
from .models import User
from .security import token_digest
from .settings import Settings

oauth2_scheme = OAuth2PasswordBearer(tokenUrl="/api/auth/token", auto_error=False)

# Dependencies that only read the application's state are ``async def``: FastAPI runs a plain ``def``
# dependency in its thread pool, a hop per dependency per request that costs more than the function.


async def get_settings(request: Request) -> Settings:
    return request.app.state.settings


def get_session(request: Request) -> Iterator[Session]:
    session = request.app.state.sessionmaker()
    try:
        yield session
    finally:
        session.close()


async def get_photo_store(request: Request) -> PhotoStore:
    return request.app.state.photos


async def get_reader(request: Request) -> Callable[..., ReadResult]:
    """The recognizer call (``read_photo`` with the configured engine, in the worker processes when the
    app has them); tests override this dependency."""
    if request.app.state.readers is not None:
        return request.app.state.readers
    settings: Settings = request.app.state.settings
    if not settings.recognizer_engine:
        return read_photo
    config = RecognizerConfig(engine=settings.recognizer_engine)
    return functools.partial(read_photo, config=config)


SettingsDep = Annotated[Settings, Depends(get_settings)]
SessionDep = Annotated[Session, Depends(get_session)]
PhotoStoreDep = Annotated[PhotoStore, Depends(get_photo_store)]
ReaderDep = Annotated[Callable[..., ReadResult], Depends(get_reader)]
TokenDep = Annotated[str | None, Depends(oauth2_scheme)]


def get_current_user(session: SessionDep, token: TokenDep) -> User:
    unauthorized = ApiError(401, "Not authenticated: log in for a bearer token.", headers={"WWW-Authenticate": "Bearer"})
    if not token:
        raise unauthorized
    user = store.user_for_token(session, token_hash=token_digest(token))
    if user is None or not user.active:
        raise ApiError(401, "The token is invalid or has expired: log in again.", headers={"WWW-Authenticate": "Bearer"})
    return user


CurrentUser = Annotated[User, Depends(get_current_user)]


def require_roles(*roles: str) -> Callable[[User], User]:
    def dependency(user: CurrentUser) -> User:
        if user.role not in roles:
            raise ApiError(403, f"This needs the {' or '.join(roles)} role.", code="forbidden")
        return user

    return dependency


Operator = Annotated[User, Depends(require_roles("operator"))]
Reviewer = Annotated[User, Depends(require_roles("reviewer", "operator"))]
