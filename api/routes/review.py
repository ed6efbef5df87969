"""The review queue and the reviewer's decisions (approve, correct, reject)."""
from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Query

from .. import services, store
from ..deps import Reviewer, SessionDep
from ..errors import not_found
from ..present import queue_item, submission_out
from ..schemas import CorrectIn, MeterKind, QueueItem, RejectIn, SubmissionOut

router = APIRouter(prefix="/api/review", tags=["review"])

QueueStatus = Literal["in_review", "accepted", "approved", "corrected", "rejected"]


@router.get("/queue", response_model=list[QueueItem], summary="Submissions to review, oldest or least confident first")
def queue(
    _: Reviewer,
    session: SessionDep,
    status: Annotated[list[QueueStatus] | None, Query()] = None,
    kind: MeterKind | None = None,
    max_confidence: Annotated[float | None, Query(ge=0, le=1)] = None,
    order: Literal["oldest", "confidence"] = "oldest",
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
    offset: Annotated[int, Query(ge=0)] = 0,
) -> list[QueueItem]:
    rows = store.review_queue(
        session, statuses=status or ["in_review"], kind=kind, max_confidence=max_confidence, order=order,
        limit=limit, offset=offset,
    )
    return [queue_item(s) for s in rows]


def _submission(session, submission_id: int):
    submission = store.get_submission(session, submission_id=submission_id)
    if submission is None:
        raise not_found(f"Submission {submission_id}")
    return submission


@router.post("/{submission_id}/approve", response_model=SubmissionOut)
def approve(submission_id: int, reviewer: Reviewer, session: SessionDep) -> SubmissionOut:
    sub = services.review(session, submission=_submission(session, submission_id), reviewer=reviewer, action="approve")
    return submission_out(sub)


@router.post("/{submission_id}/correct", response_model=SubmissionOut)
def correct(submission_id: int, body: CorrectIn, reviewer: Reviewer, session: SessionDep) -> SubmissionOut:
    sub = services.review(
        session, submission=_submission(session, submission_id), reviewer=reviewer, action="correct",
        value=body.value, reason=body.note,
    )
    return submission_out(sub)


@router.post("/{submission_id}/reject", response_model=SubmissionOut)
def reject(submission_id: int, body: RejectIn, reviewer: Reviewer, session: SessionDep) -> SubmissionOut:
    sub = services.review(
        session, submission=_submission(session, submission_id), reviewer=reviewer, action="reject",
        reason=body.reason,
    )
    return submission_out(sub)
