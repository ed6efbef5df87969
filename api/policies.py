"""Who may see and do what. Customers: their accounts only; reviewers: everything read-only plus the
review queue; operators: everything."""
from __future__ import annotations

from sqlalchemy.orm import Session

from . import store
from .errors import forbidden, not_found
from .models import Draft, Meter, Submission, User

STAFF = ("reviewer", "operator")


def can_view_meter(session: Session, *, user: User, meter: Meter) -> bool:
    return user.role in STAFF or store.is_member(session, user_id=user.id, account_id=meter.account_id)


def can_submit_for_meter(session: Session, *, user: User, meter: Meter) -> bool:
    if user.role == "operator":
        return True
    return user.role == "customer" and store.is_member(session, user_id=user.id, account_id=meter.account_id)


def can_view_draft(session: Session, *, user: User, draft: Draft) -> bool:
    return user.role in STAFF or draft.user_id == user.id


def can_view_submission(session: Session, *, user: User, submission: Submission) -> bool:
    return user.role in STAFF or store.is_member(session, user_id=user.id, account_id=submission.meter.account_id)


def require(allowed: bool, detail: str = "You are not allowed to do this.") -> None:
    if not allowed:
        raise forbidden(detail)


def meter_for(session: Session, *, user: User, meter_id: int, submit: bool = False) -> Meter:
    """The meter if it exists (404) and the user may see it, or submit for it when ``submit`` (403)."""
    meter = store.get_meter(session, meter_id=meter_id)
    if meter is None:
        raise not_found(f"Meter {meter_id}")
    if submit:
        require(can_submit_for_meter(session, user=user, meter=meter), "You cannot submit readings for this meter.")
    else:
        require(can_view_meter(session, user=user, meter=meter), "You do not have access to this meter.")
    return meter


def draft_for(session: Session, *, user: User, draft_id: int) -> Draft:

    draft = store.get_draft(session, draft_id=draft_id)
    if draft is None:
        raise not_found(f"Draft {draft_id}")
    require(can_view_draft(session, user=user, draft=draft), "This draft belongs to someone else.")
    return draft


def submission_for(session: Session, *, user: User, submission_id: int) -> Submission:

    submission = store.get_submission(session, submission_id=submission_id)
    if submission is None:
        raise not_found(f"Submission {submission_id}")
    require(can_view_submission(session, user=user, submission=submission), "You do not have access to this submission.")
    return submission
