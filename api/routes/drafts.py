"""Drafts: what was read from a photo; its images; confirming it into a submission."""
from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Header, Response
from fastapi.responses import FileResponse

from .. import services, store
from ..deps import CurrentUser, PhotoStoreDep, SessionDep, SettingsDep
from ..errors import not_found
from ..files import DERIVED_EXTS, MEDIA_TYPES
from ..policies import can_submit_for_meter, draft_for, require
from ..present import draft_out, submission_out
from ..schemas import ConfirmIn, DraftOut, SubmissionOut

router = APIRouter(prefix="/api/drafts", tags=["drafts"])


@router.get("/{draft_id}", response_model=DraftOut)
def get_draft(draft_id: int, user: CurrentUser, session: SessionDep) -> DraftOut:
    draft = draft_for(session, user=user, draft_id=draft_id)
    done = store.submission_for_draft(session, draft_id=draft.id)
    return draft_out(draft, submission_id=done.id if done else None)


@router.get(
    "/{draft_id}/{image}",
    response_class=FileResponse,
    summary="The uploaded photo, the digit-window crop or the debug overlay (owner, reviewers, operators)",
)
def draft_image(
    draft_id: int, image: Literal["photo", "crop", "debug"], user: CurrentUser, session: SessionDep,
    photos: PhotoStoreDep,
) -> FileResponse:
    draft = draft_for(session, user=user, draft_id=draft_id)
    sha, exts = {
        "photo": (draft.photo_sha256, (draft.photo_ext,)),
        # derived images are stored under the extension of their format (the overlay was PNG before
        # 2026-12-04, JPEG since): the draft records their hash only
        "crop": (draft.crop_sha256, DERIVED_EXTS),
        "debug": (draft.debug_sha256, DERIVED_EXTS),
    }[image]
    path, ext = next(((p, e) for e in exts if sha and (p := photos.get_path(sha, e))), (None, None))
    if path is None:
        raise not_found(f"The {image} image of draft {draft_id}")
    return FileResponse(path, media_type=MEDIA_TYPES.get(ext), headers={"Cache-Control": "private, max-age=3600"})


@router.post(
    "/{draft_id}/confirm",
    response_model=SubmissionOut,
    status_code=201,
    summary="Confirm (or correct) the read value; retries with the same Idempotency-Key return the same submission",
    responses={200: {"description": "Replay of an earlier confirm with the same Idempotency-Key"}},
)
def confirm(
    draft_id: int,
    user: CurrentUser,
    session: SessionDep,
    settings: SettingsDep,
    response: Response,
    body: ConfirmIn | None = None,
    idempotency_key: Annotated[str | None, Header(alias="Idempotency-Key", max_length=200)] = None,
) -> SubmissionOut:
    draft = draft_for(session, user=user, draft_id=draft_id)
    require(draft.user_id == user.id or user.role == "operator", "Only who uploaded the photo can confirm it.")
    require(can_submit_for_meter(session, user=user, meter=draft.meter), "You cannot submit readings for this meter.")
    submission, created = services.confirm_draft(
        session, settings=settings, draft=draft, user=user, value=body.value if body else None,
        idempotency_key=idempotency_key,
    )
    if not created:
        response.status_code = 200
    return submission_out(submission)
