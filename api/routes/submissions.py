"""Submissions (confirmed or entered readings) and their audit trail."""
from __future__ import annotations

from fastapi import APIRouter

from .. import store
from ..deps import CurrentUser, SessionDep
from ..policies import submission_for
from ..present import audit_out, submission_out
from ..schemas import AuditOut, SubmissionOut

router = APIRouter(prefix="/api/submissions", tags=["submissions"])


@router.get("/{submission_id}", response_model=SubmissionOut)
def get_submission(submission_id: int, user: CurrentUser, session: SessionDep) -> SubmissionOut:
    return submission_out(submission_for(session, user=user, submission_id=submission_id))


@router.get("/{submission_id}/audit", response_model=list[AuditOut])
def audit(submission_id: int, user: CurrentUser, session: SessionDep) -> list[AuditOut]:
    submission = submission_for(session, user=user, submission_id=submission_id)
    return [audit_out(e) for e in store.list_audit(session, submission_id=submission.id)]
