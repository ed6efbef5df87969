"""Recognise: upload a meter photo, get a draft reading back."""
from __future__ import annotations

from datetime import date
from typing import Annotated

from fastapi import APIRouter, File, Form, UploadFile

from .. import services, store
from ..deps import CurrentUser, PhotoStoreDep, ReaderDep, SessionDep, SettingsDep
from ..errors import ApiError, invalid
from ..policies import meter_for
from ..present import draft_out
from ..schemas import DraftOut

router = APIRouter(prefix="/api/meters", tags=["recognise"])


def read_limited(upload: UploadFile, max_bytes: int) -> bytes:
    """The upload's bytes, refusing (413) past ``max_bytes`` without reading the rest."""
    data = upload.file.read(max_bytes + 1)
    if len(data) > max_bytes:
        raise ApiError(
            413, f"The file is larger than {max_bytes / 1e6:.1f} MB; please send a smaller photo.", code="too_large"
        )
    return data


@router.post(
    "/{meter_id}/photos",
    response_model=DraftOut,
    status_code=201,
    summary="Upload a photo of the meter; returns a draft reading to confirm",
    responses={413: {"description": "Too large"}, 415: {"description": "Not a JPEG/PNG/WebP photo"}},
)
def upload_photo(
    meter_id: int,
    file: Annotated[UploadFile, File(description="JPEG, PNG or WebP photo of the meter")],
    user: CurrentUser,
    session: SessionDep,
    settings: SettingsDep,
    photos: PhotoStoreDep,
    reader: ReaderDep,
    register_name: Annotated[
        str | None, Form(alias="register", description="Tariff register (T1, T2...); default the first")
    ] = None,
    photo_date: Annotated[date | None, Form(description="Day the photo was taken; default today")] = None,
) -> DraftOut:
    meter = meter_for(session, user=user, meter_id=meter_id, submit=True)
    reg = store.find_register(meter, name=register_name)
    if reg is None:
        raise invalid(f"Meter {meter.serial} has no register {register_name!r}.")
    data = read_limited(file, settings.max_upload_bytes)
    draft = services.recognise(
        session, settings=settings, photos=photos, reader=reader, meter=meter, register=reg, user=user, data=data,
        photo_date=photo_date or services.today(),
    )
    session.commit()
    return draft_out(draft)
