"""Accounts (a household or a business) and who belongs to them."""
from __future__ import annotations

from fastapi import APIRouter

from .. import store
from ..deps import CurrentUser, Operator, SessionDep
from ..errors import conflict, not_found
from ..policies import require
from ..present import meter_out
from ..schemas import AccountIn, AccountOut, MemberIn, MeterOut

router = APIRouter(prefix="/api/accounts", tags=["accounts"])


@router.get("", response_model=list[AccountOut])
def list_accounts(user: CurrentUser, session: SessionDep) -> list[AccountOut]:
    member_id = user.id if user.role == "customer" else None
    return [AccountOut.model_validate(a) for a in store.list_accounts(session, member_id=member_id)]


@router.post("", response_model=AccountOut, status_code=201)
def create_account(body: AccountIn, _: Operator, session: SessionDep) -> AccountOut:
    if store.get_account_by_number(session, number=body.number):
        raise conflict(f"Account {body.number} already exists.")
    account = store.create_account(session, number=body.number, name=body.name)
    session.commit()
    return AccountOut.model_validate(account)


def _account(session, user, account_id: int):
    account = store.get_account(session, account_id=account_id)
    if account is None:
        raise not_found(f"Account {account_id}")
    require(
        user.role != "customer" or store.is_member(session, user_id=user.id, account_id=account_id),
        "You do not belong to this account.",
    )
    return account


@router.get("/{account_id}", response_model=AccountOut)
def get_account(account_id: int, user: CurrentUser, session: SessionDep) -> AccountOut:
    return AccountOut.model_validate(_account(session, user, account_id))


@router.get("/{account_id}/meters", response_model=list[MeterOut])
def account_meters(account_id: int, user: CurrentUser, session: SessionDep) -> list[MeterOut]:
    _account(session, user, account_id)
    return [meter_out(m) for m in store.list_meters(session, account_ids=[account_id])]


@router.post("/{account_id}/members", status_code=204)
def add_member(account_id: int, body: MemberIn, _: Operator, session: SessionDep) -> None:
    if store.get_account(session, account_id=account_id) is None:
        raise not_found(f"Account {account_id}")
    if store.get_user(session, user_id=body.user_id) is None:
        raise not_found(f"User {body.user_id}")
    store.add_member(session, account_id=account_id, user_id=body.user_id)
    session.commit()
