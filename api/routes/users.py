"""People and their roles (operators manage them)."""
from __future__ import annotations

from fastapi import APIRouter

from .. import store
from ..deps import CurrentUser, Operator, SessionDep, SettingsDep
from ..errors import conflict, invalid
from ..present import user_out
from ..schemas import UserIn, UserOut
from ..security import hash_password

router = APIRouter(prefix="/api/users", tags=["users"])


@router.get("/me", response_model=UserOut)
def me(user: CurrentUser) -> UserOut:
    return user_out(user)


@router.get("", response_model=list[UserOut])
def list_users(_: Operator, session: SessionDep) -> list[UserOut]:
    return [user_out(u) for u in store.list_users(session)]


@router.post("", response_model=UserOut, status_code=201)
def create_user(body: UserIn, _: Operator, session: SessionDep, settings: SettingsDep) -> UserOut:
    if store.get_user_by_email(session, email=body.email):
        raise conflict(f"A user with email {body.email} already exists.")
    for account_id in body.account_ids:
        if store.get_account(session, account_id=account_id) is None:
            raise invalid(f"Account {account_id} does not exist.")
    user = store.create_user(
        session, email=body.email, password_hash=hash_password(body.password, settings=settings), role=body.role,
        name=body.name, account_ids=body.account_ids,
    )
    session.commit()
    session.refresh(user)
    return user_out(user)
