"""Log in (OAuth2 password form) for a bearer token; log out."""
from __future__ import annotations

from datetime import timedelta
from typing import Annotated

from fastapi import APIRouter, Depends
from fastapi.security import OAuth2PasswordRequestForm

from .. import store
from ..deps import SessionDep, SettingsDep, TokenDep
from ..errors import ApiError
from ..models import utcnow
from ..schemas import Token
from ..security import dummy_verify, new_token, token_digest, verify_password

router = APIRouter(prefix="/api/auth", tags=["auth"])


@router.post("/token", response_model=Token, summary="Log in: email + password -> bearer token")
def login(form: Annotated[OAuth2PasswordRequestForm, Depends()], session: SessionDep, settings: SettingsDep) -> Token:
    user = store.get_user_by_email(session, email=form.username)
    if user is None:
        dummy_verify(form.password, settings=settings)
    if user is None or not user.active or not verify_password(user.password_hash, form.password, settings=settings):
        raise ApiError(401, "Wrong email or password.", headers={"WWW-Authenticate": "Bearer"})
    token = new_token()
    expires_at = utcnow() + timedelta(hours=settings.token_ttl_hours)
    store.purge_expired_tokens(session)
    store.create_token(session, user_id=user.id, token_hash=token_digest(token), expires_at=expires_at)
    session.commit()
    return Token(access_token=token, expires_at=expires_at)


@router.post("/logout", status_code=204, summary="Revoke the bearer token sent")
def logout(session: SessionDep, token: TokenDep) -> None:
    if token:
        store.delete_token(session, token_hash=token_digest(token))
        session.commit()
