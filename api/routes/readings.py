"""Manual entry of a reading, without a photo (same plausibility checks)."""
from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Header, Response

from .. import services, store
from ..deps import CurrentUser, SessionDep, SettingsDep
from ..errors import invalid
from ..policies import meter_for
from ..present import submission_out
from ..schemas import ReadingIn, SubmissionOut

router = APIRouter(prefix="/api/meters", tags=["readings"])


@router.post("/{meter_id}/readings", response_model=SubmissionOut, status_code=201)
def enter_reading(
    meter_id: int,
    body: ReadingIn,
    user: CurrentUser,
    session: SessionDep,
    settings: SettingsDep,
    response: Response,
    idempotency_key: Annotated[str | None, Header(alias="Idempotency-Key", max_length=200)] = None,
) -> SubmissionOut:
    meter = meter_for(session, user=user, meter_id=meter_id, submit=True)
    reg = store.find_register(meter, name=body.register_name)
    if reg is None:
        raise invalid(f"Meter {meter.serial} has no register {body.register_name!r}.")
    submission, created = services.enter_reading(
        session, settings=settings, meter=meter, register=reg, user=user, value=body.value,
        reading_date=body.date or services.today(), idempotency_key=idempotency_key, note=body.note,
    )
    if not created:
        response.status_code = 200
    return submission_out(submission)
