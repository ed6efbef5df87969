"""What the routes do, below HTTP: recognise a photo into a draft, confirm it, enter a reading by hand,
review, build the history. Keyword-only; raises ApiError; the caller commits."""
from __future__ import annotations

import hashlib
import io
import json
import logging
import re
import warnings
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal

from PIL import Image
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from pipeline.decode import DecodeLimits, decode
from recognizer import ImageError, MeterSpec, ReadResult
from recognizer.debug import image_ext
from recognizer.mail import MailError, MailPhotos, parse_message, sender_verified

from . import store
from .errors import IMAGE_ERROR_STATUS, ApiError, conflict, invalid
from .files import EXTENSIONS, PhotoStore
from .models import COUNTED_STATUSES, Draft, Meter, MeterRegister, Submission, User, utcnow
from .readings import (
    PlausibilityCheck,
    ValueFormatError,
    check_plausibility,
    consumption_between,
    normalize_value,
)
from .settings import Settings

log = logging.getLogger("meterread.api")

Reader = Callable[..., ReadResult]


def image_error(exc: ImageError) -> ApiError:
    return ApiError(IMAGE_ERROR_STATUS.get(exc.code, 422), exc.message, code=exc.code)


def normalized(meter: Meter, value: str) -> str:
    try:
        return normalize_value(value, integer_digits=meter.integer_digits, fractional_digits=meter.fractional_digits)
    except ValueFormatError as exc:
        raise invalid(str(exc)) from exc


def plausibility_of(
    session: Session, *, settings: Settings, meter: Meter, register: MeterRegister, value: str | None,
    reading_date: date, exclude_id: int | None = None,
) -> PlausibilityCheck | None:
    previous = store.last_counted_submission(session, register_id=register.id, exclude_id=exclude_id)
    if value is None:
        if previous is None:
            return None
        return PlausibilityCheck(previous.value, previous.reading_date, None, None, None, True, None)
    return check_plausibility(
        value,
        previous=previous.value if previous else None,
        previous_date=previous.reading_date if previous else None,
        reading_date=reading_date,
        integer_digits=meter.integer_digits,
        max_per_day=settings.max_per_day,
        max_consumption_no_dates=settings.max_consumption_no_dates,
    )


# ---- recognise -------------------------------------------------------------------------------------


# The photo is decoded here so that what is not a whole photo never reaches the recognizer, which decodes
# it again at its own working size. A small size is enough for that check: a JPEG is then decoded at the
# codec's 1/8 scale, which still reads every byte of the file (a truncated or corrupt one fails the same
# way) at a fraction of the cost (2.5 instead of 16 ms for a 350 kB photo of ../shared/data/photos).
VALIDATE_LONG_SIDE = 128
VALIDATE_SHORT_SIDE = 16  # a long thin photo is decoded larger, so that its short side keeps this many pixels


def _validation_long_side(data: bytes) -> int:
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            with Image.open(io.BytesIO(data)) as im:
                w, h = im.size
    except Exception:  # decode() says what is wrong with the file
        return VALIDATE_LONG_SIDE
    return max(VALIDATE_LONG_SIDE, -(-VALIDATE_SHORT_SIDE * max(w, h) // max(1, min(w, h))))


def validate_photo(data: bytes, *, settings: Settings) -> str:
    """Decode the header and pixels (nothing stored yet); return the file extension for the format."""
    try:
        decoded = decode(data, DecodeLimits(
            max_bytes=settings.max_upload_bytes, max_pixels=settings.max_upload_pixels,
            work_long_side=_validation_long_side(data),
        ))
    except ImageError as exc:
        raise image_error(exc) from exc
    return EXTENSIONS.get(decoded.format, "bin")


def recognise(
    session: Session, *, settings: Settings, photos: PhotoStore, reader: Reader, meter: Meter,
    register: MeterRegister, user: User, data: bytes, photo_date: date,
) -> Draft:
    if photo_date > today() + timedelta(days=1):
        raise invalid("The photo date is in the future.")
    ext = validate_photo(data, settings=settings)
    previous = store.last_counted_submission(session, register_id=register.id)
    spec = MeterSpec(integer_digits=meter.integer_digits, fractional_digits=meter.fractional_digits, kind=meter.kind)
    try:
        result = reader(
            data,
            previous=previous.value if previous else None,
            previous_date=previous.reading_date if previous else None,
            photo_date=photo_date,
            meter=spec,
            with_images=True,
        )
    except ImageError as exc:
        raise image_error(exc) from exc
    except Exception:  # the photo is fine; the customer can still type the value
        log.exception("recognizer failed on a photo for meter %s", meter.id)
        result = ReadResult(
            status="rejected", reading=None, confidence=0.0, registers=(),
            reason="The photo could not be read automatically; please type the value you see.", elapsed_ms=0.0,
        )
    reading = result.reading
    if reading is not None:
        try:
            reading = normalize_value(
                reading, integer_digits=meter.integer_digits, fractional_digits=meter.fractional_digits
            )
        except ValueFormatError:
            pass  # keep what was read ("0041?.676"); the customer corrects it
    plaus = None
    if reading is not None and "?" not in reading:
        try:
            plaus = plausibility_of(
                session, settings=settings, meter=meter, register=register, value=reading, reading_date=photo_date
            )
        except ArithmeticError:
            plaus = None
    elif previous is not None:
        plaus = plausibility_of(
            session, settings=settings, meter=meter, register=register, value=None, reading_date=photo_date
        )
    status = result.status
    reason = result.reason
    if status == "accepted" and plaus is not None and not plaus.ok:
        status, reason = "needs_review", plaus.reason
    # stored only now that the photo is known to be good
    photo_sha = photos.put(data, ext)
    crop_sha = photos.put(result.images["crop"], image_ext(result.images["crop"])) if result.images.get("crop") else None
    debug_sha = photos.put(result.images["debug"], image_ext(result.images["debug"])) if result.images.get("debug") else None
    return store.create_draft(
        session,
        meter_id=meter.id,
        register_id=register.id,
        user_id=user.id,
        photo_sha256=photo_sha,
        photo_ext=ext,
        photo_size=len(data),
        crop_sha256=crop_sha,
        debug_sha256=debug_sha,
        status=status,
        reading=reading,
        confidence=float(result.confidence or 0.0),
        reason=reason,
        result_json=json.dumps(result.to_dict()),
        plausibility_json=json.dumps(plaus.to_dict()) if plaus else None,
        photo_date=photo_date,
    )


# ---- confirm / manual entry ------------------------------------------------------------------------


def _submit(
    session: Session, *, settings: Settings, meter: Meter, register: MeterRegister, user: User, value: str,
    reading_date: date, source: str, draft: Draft | None, idempotency_key: str | None, note: str | None = None,
    doubts: tuple[str, ...] = (),
) -> Submission:
    value = normalized(meter, value)
    plaus = plausibility_of(
        session, settings=settings, meter=meter, register=register, value=value, reading_date=reading_date
    )
    reasons: list[str] = []
    if draft is not None:
        if draft.reading is None:
            reasons.append("Nothing was read from the photo; the value was typed by the customer.")
        elif draft.reading != value:
            reasons.append(f"The customer changed the read value {draft.reading} to {value}.")
        if draft.status != "accepted":
            reasons.append(f"The photo was not read with confidence ({draft.status}: {draft.reason or 'no reason'}).")
    if plaus is not None and not plaus.ok:
        reasons.append(plaus.reason or "The reading is implausible.")
    reasons.extend(doubts)
    status = "in_review" if reasons else "accepted"
    submission = store.create_submission(
        session,
        meter_id=meter.id,
        register_id=register.id,
        user_id=user.id,
        draft_id=draft.id if draft else None,
        source=source,
        value=value,
        submitted_value=value,
        read_value=draft.reading if draft else None,
        confidence=draft.confidence if draft else None,
        status=status,
        review_reason=" ".join(reasons) or None,
        reading_date=reading_date,
        idempotency_key=idempotency_key,
    )
    store.add_audit(
        session, submission=submission, user_id=user.id, action="submitted" if draft else "entered",
        old_value=draft.reading if draft else None, new_value=value, new_status=status,
        note=" ".join(x for x in (note, submission.review_reason) if x) or None,
    )
    return submission


def _replay(
    session: Session, *, user: User, key: str | None, draft_id: int | None, meter_id: int | None = None
) -> Submission | None:
    """The submission an earlier request with this Idempotency-Key made (409 if that was another request)."""
    if not key:
        return None
    existing = store.submission_for_key(session, user_id=user.id, key=key)
    if existing is None:
        return None
    same = existing.draft_id == draft_id if draft_id is not None else (
        existing.draft_id is None and existing.meter_id == meter_id
    )
    if not same:
        raise conflict("This Idempotency-Key was already used for another request.")
    return existing


def _commit_or_replay(
    session: Session, *, user: User, key: str | None, draft_id: int | None, meter_id: int | None, make
) -> tuple[Submission, bool]:
    """Run ``make`` and commit; on a unique clash (a concurrent retry) return what the other request made."""
    existing = _replay(session, user=user, key=key, draft_id=draft_id, meter_id=meter_id)
    if existing is not None:
        return existing, False
    try:
        submission = make()
        session.commit()
        return submission, True
    except IntegrityError:
        session.rollback()
        existing = _replay(session, user=user, key=key, draft_id=draft_id, meter_id=meter_id)
        if existing is not None:
            return existing, False
        if draft_id is not None and (done := store.submission_for_draft(session, draft_id=draft_id)):
            if key and done.idempotency_key == key and done.user_id == user.id:
                return done, False
            raise conflict(f"This draft was already confirmed (submission {done.id}).")
        raise


def confirm_draft(
    session: Session, *, settings: Settings, draft: Draft, user: User, value: str | None,
    idempotency_key: str | None,
) -> tuple[Submission, bool]:
    existing = _replay(session, user=user, key=idempotency_key, draft_id=draft.id)
    if existing is not None:
        return existing, False
    done = store.submission_for_draft(session, draft_id=draft.id)
    if done is not None:
        if idempotency_key and done.idempotency_key == idempotency_key and done.user_id == user.id:
            return done, False  # a retry that raced the first request
        raise conflict(f"This draft was already confirmed (submission {done.id}).")
    value = value if value not in (None, "") else draft.reading
    if value is None:
        raise invalid("Nothing was read from this photo: send the value you see on the meter.")
    return _commit_or_replay(
        session, user=user, key=idempotency_key, draft_id=draft.id, meter_id=draft.meter_id,
        make=lambda: _submit(
            session, settings=settings, meter=draft.meter, register=draft.register, user=user, value=value,
            reading_date=draft.photo_date, source="photo", draft=draft, idempotency_key=idempotency_key,
        ),
    )


def enter_reading(
    session: Session, *, settings: Settings, meter: Meter, register: MeterRegister, user: User, value: str,
    reading_date: date, idempotency_key: str | None, note: str | None = None,
) -> tuple[Submission, bool]:
    existing = _replay(session, user=user, key=idempotency_key, draft_id=None, meter_id=meter.id)
    if existing is not None:
        return existing, False
    if reading_date > today() + timedelta(days=1):
        raise invalid("The reading date is in the future.")
    return _commit_or_replay(
        session, user=user, key=idempotency_key, draft_id=None, meter_id=meter.id,
        make=lambda: _submit(
            session, settings=settings, meter=meter, register=register, user=user, value=value,
            reading_date=reading_date, source="manual", draft=None, idempotency_key=idempotency_key, note=note,
        ),
    )


# ---- e-mail -------------------------------------------------------------------------------------------

MAIL_PHOTOS_READ = 3  # photos of one message that are read; the best read is the one submitted


@dataclass
class MailReceipt:
    """What became of a customer's e-mail: ``status`` is the submission's (``accepted``, ``in_review``) or
    ``not_read`` (the drafts are kept: the customer can type the value); ``message`` is the reply to send."""

    status: str
    message: str
    meter: Meter
    draft: Draft | None
    submission: Submission | None
    skipped: list[dict]
    replayed: bool = False


def _meter_of_mail(meters: list[Meter], mail: MailPhotos) -> Meter:
    """The meter the message names by its serial (subject first, then the text), else the sender's only one."""
    for text in (mail.subject, mail.text):
        named = [m for m in meters if re.search(rf"(?<![0-9A-Za-z]){re.escape(m.serial)}(?![0-9A-Za-z])", text, re.I)]
        if len(named) == 1:
            return named[0]
    if len(meters) == 1:
        return meters[0]
    if not meters:
        raise ApiError(422, "No meter is registered to the sender's accounts.", code="no_meter")
    serials = ", ".join(m.serial for m in meters)
    raise ApiError(422, f"The sender has {len(meters)} meters ({serials}): put the serial number of the meter "
                        "photographed in the subject.", code="which_meter")


def _mail_key(message_id: str | None) -> str | None:
    """The idempotency key of a message: a gateway that retries posts the same Message-ID."""
    if not message_id:
        return None
    return "mail:" + hashlib.sha256(message_id.strip().encode("utf-8", "replace")).hexdigest()


def _mail_date(mail: MailPhotos) -> date:
    day = today()
    if mail.sent is None:
        return day
    sent = mail.sent.date()
    return sent if sent <= day else day  # a sender's clock ahead of ours does not date a reading in the future


def _mail_reply(status: str, meter: Meter, draft: Draft | None, submission: Submission | None) -> str:
    if status == "accepted":
        return f"Thank you: your reading {submission.value} for meter {meter.serial} has been received."
    if status == "in_review":
        # the recognizer's reason is written for customers ("A reflection covers the display..."); the
        # submission's review reason is for reviewers
        why = f" {draft.reason}" if draft is not None and draft.reason else ""
        return (f"Thank you: we read {submission.value} on meter {meter.serial}. Someone will check it against "
                f"your photo before it is used.{why}")
    why = draft.reason if draft is not None and draft.reason else "the digits could not be made out"
    return (f"We could not read meter {meter.serial} from your photo: {why} Please reply with a new photo, or "
            "with the reading typed out.")


def receive_email(
    session: Session, *, settings: Settings, photos: PhotoStore, reader: Reader, raw: bytes,
) -> MailReceipt:
    """A customer's e-mail with a photo of a meter, as the mail gateway posts it: the sender is a customer
    (by address), the meter is theirs (named in the subject or text, or their only one), up to
    ``MAIL_PHOTOS_READ`` photos are read and the surest read is submitted, to review where it is not sure
    or where our mail server did not vouch for the sender (``settings.mail_authserv_id``: a From: header is
    easily forged). The customer cannot confirm a draft by e-mail, so the reviewers confirm the rest."""
    try:
        mail = parse_message(raw, max_part_bytes=settings.max_upload_bytes, max_message_bytes=settings.max_mail_bytes)
    except MailError as exc:
        raise image_error(exc) from exc
    user = store.get_user_by_email(session, email=mail.sender) if mail.sender else None
    if user is None or not user.active or user.role != "customer":
        raise ApiError(422, "The sender's address is not a customer's: readings are taken from the address "
                            "registered with the account.", code="unknown_sender")
    key = _mail_key(mail.message_id)
    if key and (done := store.submission_for_key(session, user_id=user.id, key=key)) is not None:
        # the gateway retried: what the first delivery made, whatever has happened to the meters since
        status = "accepted" if done.status == "accepted" else "in_review"
        return MailReceipt(status, _mail_reply(status, done.meter, done.draft, done), done.meter, done.draft, done,
                           [], replayed=True)
    meters = list(store.list_meters(session, account_ids=store.member_account_ids(session, user_id=user.id)))
    meter = _meter_of_mail(meters, mail)
    if not mail.photos:
        raise ApiError(422, "The message has no photo attached: send the meter's photo as an attachment.",
                       code="no_photo")
    register = store.find_register(meter, name=None)
    photo_date = _mail_date(mail)
    drafts: list[Draft] = []
    skipped: list[dict] = []
    for att in mail.photos[:MAIL_PHOTOS_READ]:
        if att.data is None:
            skipped.append({"name": att.name, "code": "too_large", "reason": att.error})
            continue
        try:
            drafts.append(recognise(session, settings=settings, photos=photos, reader=reader, meter=meter,
                                    register=register, user=user, data=att.data, photo_date=photo_date))
        except ApiError as exc:  # that attachment is not a usable photo: the others may be
            skipped.append({"name": att.name, "code": exc.code, "reason": exc.detail})
    if not drafts:
        first = skipped[0]
        raise ApiError(IMAGE_ERROR_STATUS.get(first["code"], 422),
                       f"No attached photo could be read: {first['name']}: {first['reason']}", code=first["code"])
    best = max(drafts, key=lambda d: (d.status == "accepted", d.reading is not None and "?" not in d.reading, d.confidence))
    if best.reading is None or "?" in best.reading:
        session.commit()  # the drafts stay: the customer can type the value on the web page
        return MailReceipt("not_read", _mail_reply("not_read", meter, best, None), meter, best, None, skipped)
    doubts = () if sender_verified(mail, settings.mail_authserv_id) else (
        "The sender's address was not verified by our mail server (no passing DMARC, DKIM or SPF result).",)
    submission, created = _commit_or_replay(
        session, user=user, key=key, draft_id=best.id, meter_id=meter.id,
        make=lambda: _submit(
            session, settings=settings, meter=meter, register=register, user=user, value=best.reading,
            reading_date=best.photo_date, source="email", draft=best, idempotency_key=key, note="Sent by e-mail.",
            doubts=doubts,
        ),
    )
    status = "accepted" if submission.status == "accepted" else "in_review"
    return MailReceipt(status, _mail_reply(status, meter, best, submission), meter, best, submission, skipped,
                       replayed=not created)


# ---- review ------------------------------------------------------------------------------------------


def review(
    session: Session, *, submission: Submission, reviewer: User, action: str, value: str | None = None,
    reason: str | None = None,
) -> Submission:
    old_value, old_status = submission.value, submission.status
    if action == "approve":
        if submission.status != "in_review":
            raise conflict(f"Submission {submission.id} is {submission.status}, not in review.")
        submission.status = "approved"
        new_value = old_value
    elif action == "correct":
        if value is None or not value.strip():
            raise invalid("A corrected value is required.")
        new_value = normalized(submission.meter, value)
        submission.value = new_value
        submission.status = "corrected"
        submission.reject_reason = None
    elif action == "reject":
        if not reason or not reason.strip():
            raise invalid("A reason is required to reject a reading (the customer sees it).")
        if submission.status == "rejected":
            raise conflict(f"Submission {submission.id} is already rejected.")
        submission.status = "rejected"
        submission.reject_reason = reason.strip()
        new_value = old_value
    else:  # pragma: no cover - routes only pass the three
        raise invalid(f"Unknown review action {action!r}.")
    submission.reviewed_by = reviewer.id
    submission.reviewed_at = utcnow()
    store.add_audit(
        session, submission=submission, user_id=reviewer.id, action={"approve": "approved", "correct": "corrected",
        "reject": "rejected"}[action], old_value=old_value, new_value=new_value, old_status=old_status,
        new_status=submission.status, note=(reason.strip() if reason else None),
    )
    session.commit()
    return submission


# ---- history -----------------------------------------------------------------------------------------


def history(session: Session, *, meter: Meter, register: MeterRegister | None = None) -> list[dict]:
    """Per register: readings in date order, with consumption since the previous counted reading."""
    registers = [register] if register else list(meter.registers)
    out = []
    for reg in registers:
        rows = []
        previous: Submission | None = None
        for sub in store.list_submissions(session, meter_id=meter.id, register_id=reg.id):
            counted = sub.status in COUNTED_STATUSES
            consumption = days = per_day = None
            if counted and previous is not None:
                amount, _ = consumption_between(previous.value, sub.value, integer_digits=meter.integer_digits)
                consumption = float(amount.quantize(Decimal(1).scaleb(-meter.fractional_digits)))
                days = (sub.reading_date - previous.reading_date).days
                per_day = round(consumption / days, 4) if days > 0 else None
            rows.append(
                {
                    "submission_id": sub.id,
                    "date": sub.reading_date,
                    "value": sub.value,
                    "submitted_value": sub.submitted_value,
                    "read_value": sub.read_value,
                    "status": sub.status,
                    "source": sub.source,
                    "photo_url": f"/api/drafts/{sub.draft_id}/photo" if sub.draft_id else None,
                    "counted": counted,
                    "consumption": consumption,
                    "days": days,
                    "per_day": per_day,
                    "previous_value": previous.value if (counted and previous) else None,
                    "review_reason": sub.review_reason,
                    "reject_reason": sub.reject_reason,
                    "created_at": sub.created_at,
                }
            )
            if counted:
                previous = sub
        out.append({"register": reg.name, "readings": rows})
    return out


def today() -> date:
    return datetime.now().date()
