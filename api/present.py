"""ORM rows -> response schemas (URLs included)."""
from __future__ import annotations

import json

from . import schemas
from .models import AuditEntry, Draft, Meter, Submission, User


def user_out(user: User) -> schemas.UserOut:
    return schemas.UserOut(
        id=user.id, email=user.email, name=user.name, role=user.role, account_ids=[a.id for a in user.accounts]
    )


def meter_out(meter: Meter) -> schemas.MeterOut:
    return schemas.MeterOut.model_validate(meter)


def draft_out(draft: Draft, *, submission_id: int | None = None) -> schemas.DraftOut:
    result = json.loads(draft.result_json or "{}")
    plaus = json.loads(draft.plausibility_json) if draft.plausibility_json else None
    base = f"/api/drafts/{draft.id}"
    return schemas.DraftOut(
        id=draft.id,
        meter_id=draft.meter_id,
        register_name=draft.register.name,
        status=draft.status,
        reading=draft.reading,
        confidence=draft.confidence,
        digits=[schemas.DigitOut(**d) for d in result.get("digits", [])],
        reason=draft.reason,
        plausibility=schemas.PlausibilityOut(**plaus) if plaus else None,
        photo_date=draft.photo_date,
        turned=bool(result.get("turned", False)),
        # drafts read before sideways photos were: turned meant upside down
        rotation=int(result.get("rotation", 180 if result.get("turned") else 0)),
        photo_url=f"{base}/photo",
        crop_url=f"{base}/crop" if draft.crop_sha256 else None,
        debug_url=f"{base}/debug" if draft.debug_sha256 else None,
        confirm_url=f"{base}/confirm",
        submission_id=submission_id,
        created_at=draft.created_at,
    )


def _submission_fields(sub: Submission) -> dict:
    return dict(
        id=sub.id, meter_id=sub.meter_id, register_name=sub.register.name, user_id=sub.user_id, draft_id=sub.draft_id,
        source=sub.source, value=sub.value, submitted_value=sub.submitted_value, read_value=sub.read_value,
        confidence=sub.confidence, status=sub.status, review_reason=sub.review_reason,
        reject_reason=sub.reject_reason, reading_date=sub.reading_date, created_at=sub.created_at,
        reviewed_by=sub.reviewed_by, reviewed_at=sub.reviewed_at,
    )


def submission_out(sub: Submission) -> schemas.SubmissionOut:
    return schemas.SubmissionOut(**_submission_fields(sub))


def queue_item(sub: Submission) -> schemas.QueueItem:
    return schemas.QueueItem(
        **_submission_fields(sub), meter_serial=sub.meter.serial, meter_kind=sub.meter.kind,
        photo_url=f"/api/drafts/{sub.draft_id}/photo" if sub.draft_id else None,
    )


def audit_out(entry: AuditEntry) -> schemas.AuditOut:
    return schemas.AuditOut(
        id=entry.id, submission_id=entry.submission_id, user_id=entry.user_id,
        user_email=entry.user.email if entry.user else None, at=entry.at, action=entry.action,
        old_value=entry.old_value, new_value=entry.new_value, old_status=entry.old_status,
        new_status=entry.new_status, note=entry.note,
    )
