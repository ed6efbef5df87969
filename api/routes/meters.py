"""Meters and their tariff registers."""
from __future__ import annotations

from fastapi import APIRouter

from .. import store
from ..deps import CurrentUser, Operator, SessionDep
from ..errors import conflict, invalid
from ..policies import meter_for
from ..present import meter_out
from ..schemas import MeterIn, MeterOut, RegisterIn

router = APIRouter(prefix="/api/meters", tags=["meters"])


@router.get("", response_model=list[MeterOut])
def list_meters(user: CurrentUser, session: SessionDep) -> list[MeterOut]:
    account_ids = store.member_account_ids(session, user_id=user.id) if user.role == "customer" else None
    return [meter_out(m) for m in store.list_meters(session, account_ids=account_ids)]


@router.post("", response_model=MeterOut, status_code=201)
def create_meter(body: MeterIn, _: Operator, session: SessionDep) -> MeterOut:
    if store.get_account(session, account_id=body.account_id) is None:
        raise invalid(f"Account {body.account_id} does not exist.")
    if store.get_meter_by_serial(session, serial=body.serial):
        raise conflict(f"A meter with serial number {body.serial} already exists.")
    names = [n.strip() for n in body.registers]
    if any(not n for n in names) or len({n.lower() for n in names}) != len(names):
        raise invalid("Register names must be non-empty and distinct.")
    meter = store.create_meter(
        session, account_id=body.account_id, serial=body.serial, kind=body.kind, integer_digits=body.integer_digits,
        fractional_digits=body.fractional_digits, registers=names,
    )
    session.commit()
    return meter_out(meter)


@router.get("/{meter_id}", response_model=MeterOut)
def get_meter(meter_id: int, user: CurrentUser, session: SessionDep) -> MeterOut:
    return meter_out(meter_for(session, user=user, meter_id=meter_id))


@router.post("/{meter_id}/registers", response_model=MeterOut, status_code=201)
def add_register(meter_id: int, body: RegisterIn, user: Operator, session: SessionDep) -> MeterOut:
    meter = meter_for(session, user=user, meter_id=meter_id)
    if store.find_register(meter, name=body.name) is not None:
        raise conflict(f"Meter {meter.serial} already has a register {body.name}.")
    store.add_register(session, meter=meter, name=body.name.strip())
    session.commit()
    session.refresh(meter)
    return meter_out(meter)
