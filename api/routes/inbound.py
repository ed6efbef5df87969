"""Readings that arrive by e-mail: the mail gateway posts each customer's message whole."""
from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Body, Response

from .. import services
from ..deps import Operator, PhotoStoreDep, ReaderDep, SessionDep, SettingsDep
from ..present import draft_out, submission_out
from ..schemas import MailReceiptOut

router = APIRouter(prefix="/api/inbound", tags=["inbound"])


@router.post(
    "/email",
    response_model=MailReceiptOut,
    status_code=201,
    summary="A customer's e-mail with a photo of the meter, posted whole (RFC 5322) by the mail gateway",
    description=(
        "The gateway (signed in as an operator) posts the raw message as it was received. The sender must be a "
        "customer's registered address; the meter is the one whose serial number the subject or text names, "
        "or the customer's only meter. Up to three attached photos are read and the surest read is submitted; "
        "where it is not sure, the submission waits for a reviewer. `message` is the reply to send back. "
        "Posting the same message again (same Message-ID) makes nothing new."
    ),
    responses={413: {"description": "Message or photo too large"}, 422: {"description": "Unknown sender, no "
               "photo, no meter, several meters and none named, or no attachment is a readable photo"}},
)
def receive_email(
    gateway: Operator,
    session: SessionDep,
    settings: SettingsDep,
    photos: PhotoStoreDep,
    reader: ReaderDep,
    response: Response,
    # optional here so that an empty post gets the service's own "empty" error, not a validation one
    raw: Annotated[bytes | None, Body(media_type="message/rfc822", description="The message, as received")] = None,
) -> MailReceiptOut:
    receipt = services.receive_email(session, settings=settings, photos=photos, reader=reader, raw=raw or b"")
    if receipt.replayed:
        response.status_code = 200
    sub = receipt.submission
    return MailReceiptOut(
        status=receipt.status, message=receipt.message, meter_id=receipt.meter.id, meter_serial=receipt.meter.serial,
        draft=draft_out(receipt.draft, submission_id=sub.id if sub else None) if receipt.draft else None,
        submission=submission_out(sub) if sub else None, skipped=receipt.skipped, replayed=receipt.replayed,
    )
