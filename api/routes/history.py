"""A meter's readings per register, with consumption; CSV export."""
from __future__ import annotations

import csv
import io

from fastapi import APIRouter
from fastapi.responses import Response

from .. import services, store
from ..deps import CurrentUser, SessionDep
from ..errors import invalid
from ..policies import meter_for
from ..schemas import HistoryOut

router = APIRouter(prefix="/api/meters", tags=["history"])

CSV_COLUMNS = [
    "meter_serial", "register", "date", "value", "status", "consumption", "days", "per_day", "source",
    "read_value", "submitted_value", "reject_reason", "review_reason", "submission_id",
]


def _history(session, user, meter_id: int, register: str | None):
    meter = meter_for(session, user=user, meter_id=meter_id)
    reg = None
    if register:
        reg = store.find_register(meter, name=register)
        if reg is None:
            raise invalid(f"Meter {meter.serial} has no register {register!r}.")
    return meter, services.history(session, meter=meter, register=reg)


@router.get("/{meter_id}/history", response_model=HistoryOut)
def history(meter_id: int, user: CurrentUser, session: SessionDep, register: str | None = None) -> HistoryOut:
    meter, registers = _history(session, user, meter_id, register)
    return HistoryOut(meter_id=meter.id, serial=meter.serial, kind=meter.kind, registers=registers)


@router.get(
    "/{meter_id}/history.csv",
    response_class=Response,
    responses={200: {"content": {"text/csv": {}}, "description": "One row per reading"}},
)
def history_csv(meter_id: int, user: CurrentUser, session: SessionDep, register: str | None = None) -> Response:
    meter, registers = _history(session, user, meter_id, register)
    buf = io.StringIO()
    writer = csv.DictWriter(buf, fieldnames=CSV_COLUMNS, lineterminator="\n")
    writer.writeheader()
    for reg in registers:
        for row in reg["readings"]:
            writer.writerow(
                {
                    "meter_serial": meter.serial, "register": reg["register"], "date": row["date"].isoformat(),
                    **{k: ("" if row.get(k) is None else row[k]) for k in CSV_COLUMNS[3:]},
                }
            )
    return Response(
        buf.getvalue(), media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="meter-{meter.serial}-history.csv"'},
    )
