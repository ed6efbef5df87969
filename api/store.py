"""Data access: small keyword-only functions over the ORM. They flush, never commit (the caller does)."""
from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session, selectinload

from .models import (
    COUNTED_STATUSES,
    Account,
    AccountMember,
    ApiToken,
    AuditEntry,
    Draft,
    Meter,
    MeterRegister,
    Submission,
    User,
    utcnow,
)

# ---- accounts and people ----------------------------------------------------------------------


def create_account(session: Session, *, number: str, name: str) -> Account:
    account = Account(number=number, name=name)
    session.add(account)
    session.flush()
    return account


def get_account(session: Session, *, account_id: int) -> Account | None:
    return session.get(Account, account_id)


def get_account_by_number(session: Session, *, number: str) -> Account | None:
    return session.scalar(select(Account).where(Account.number == number))


def list_accounts(session: Session, *, member_id: int | None = None) -> Sequence[Account]:
    q = select(Account).order_by(Account.id)
    if member_id is not None:
        q = q.join(AccountMember, AccountMember.account_id == Account.id).where(AccountMember.user_id == member_id)
    return session.scalars(q).all()


def create_user(
    session: Session, *, email: str, password_hash: str, role: str, name: str | None = None,
    account_ids: Iterable[int] = (),
) -> User:
    user = User(email=email.strip().lower(), password_hash=password_hash, role=role, name=name)
    session.add(user)
    session.flush()
    for account_id in account_ids:
        add_member(session, account_id=account_id, user_id=user.id)
    return user


def get_user(session: Session, *, user_id: int) -> User | None:
    return session.get(User, user_id)


def get_user_by_email(session: Session, *, email: str) -> User | None:
    return session.scalar(select(User).where(User.email == email.strip().lower()))


def list_users(session: Session) -> Sequence[User]:
    return session.scalars(select(User).order_by(User.id).options(selectinload(User.accounts))).all()


def add_member(session: Session, *, account_id: int, user_id: int) -> None:
    if session.get(AccountMember, (account_id, user_id)) is None:
        session.add(AccountMember(account_id=account_id, user_id=user_id))
        session.flush()
    session.expire_all()


def member_account_ids(session: Session, *, user_id: int) -> set[int]:
    return set(session.scalars(select(AccountMember.account_id).where(AccountMember.user_id == user_id)))


def is_member(session: Session, *, user_id: int, account_id: int) -> bool:
    return session.get(AccountMember, (account_id, user_id)) is not None


# ---- tokens ----------------------------------------------------------------------------------


def create_token(session: Session, *, user_id: int, token_hash: str, expires_at: datetime) -> ApiToken:
    token = ApiToken(user_id=user_id, token_hash=token_hash, expires_at=expires_at)
    session.add(token)
    session.flush()
    return token


def user_for_token(session: Session, *, token_hash: str, now: datetime | None = None) -> User | None:
    now = now or utcnow()
    token = session.scalar(select(ApiToken).where(ApiToken.token_hash == token_hash))
    if token is None or token.expires_at <= now:
        return None
    return token.user


def delete_token(session: Session, *, token_hash: str) -> None:
    token = session.scalar(select(ApiToken).where(ApiToken.token_hash == token_hash))
    if token is not None:
        session.delete(token)
        session.flush()


def purge_expired_tokens(session: Session, *, now: datetime | None = None) -> None:
    now = now or utcnow()
    for token in session.scalars(select(ApiToken).where(ApiToken.expires_at <= now)):
        session.delete(token)


# ---- meters ----------------------------------------------------------------------------------


def create_meter(
    session: Session, *, account_id: int, serial: str, kind: str, integer_digits: int, fractional_digits: int,
    registers: Sequence[str] = ("T1",),
) -> Meter:
    meter = Meter(
        account_id=account_id, serial=serial, kind=kind, integer_digits=integer_digits,
        fractional_digits=fractional_digits,
    )
    meter.registers = [MeterRegister(name=name, position=i) for i, name in enumerate(registers or ("T1",))]
    session.add(meter)
    session.flush()
    return meter


def get_meter(session: Session, *, meter_id: int) -> Meter | None:
    return session.get(Meter, meter_id)


def get_meter_by_serial(session: Session, *, serial: str) -> Meter | None:
    return session.scalar(select(Meter).where(Meter.serial == serial))


def list_meters(session: Session, *, account_ids: Iterable[int] | None = None) -> Sequence[Meter]:
    q = select(Meter).order_by(Meter.id).options(selectinload(Meter.registers))
    if account_ids is not None:
        q = q.where(Meter.account_id.in_(list(account_ids)))
    return session.scalars(q).all()


def add_register(session: Session, *, meter: Meter, name: str) -> MeterRegister:
    register = MeterRegister(meter_id=meter.id, name=name, position=len(meter.registers))
    session.add(register)
    session.flush()
    session.refresh(meter)
    return register


def find_register(meter: Meter, *, name: str | None) -> MeterRegister | None:
    """The named register, or the meter's first one when no name is given."""
    if not meter.registers:
        return None
    if not name:
        return meter.registers[0]
    for register in meter.registers:
        if register.name.lower() == name.strip().lower():
            return register
    return None


# ---- drafts and submissions --------------------------------------------------------------------


def create_draft(session: Session, **fields) -> Draft:
    draft = Draft(**fields)
    session.add(draft)
    session.flush()
    return draft


def get_draft(session: Session, *, draft_id: int) -> Draft | None:
    return session.get(Draft, draft_id)


def last_counted_submission(session: Session, *, register_id: int, exclude_id: int | None = None) -> Submission | None:
    q = (
        select(Submission)
        .where(Submission.register_id == register_id, Submission.status.in_(COUNTED_STATUSES))
        .order_by(Submission.reading_date.desc(), Submission.id.desc())
        .limit(1)
    )
    if exclude_id is not None:
        q = q.where(Submission.id != exclude_id)
    return session.scalar(q)


def counted_before(session: Session, *, submission: Submission) -> Submission | None:
    """The last counted submission of the same register before ``submission`` (by date, then id)."""
    q = (
        select(Submission)
        .where(
            Submission.register_id == submission.register_id,
            Submission.status.in_(COUNTED_STATUSES),
            Submission.id != submission.id,
            (Submission.reading_date < submission.reading_date)
            | ((Submission.reading_date == submission.reading_date) & (Submission.id < submission.id)),
        )
        .order_by(Submission.reading_date.desc(), Submission.id.desc())
        .limit(1)
    )
    return session.scalar(q)


def create_submission(session: Session, **fields) -> Submission:
    submission = Submission(**fields)
    session.add(submission)
    session.flush()
    return submission


def get_submission(session: Session, *, submission_id: int) -> Submission | None:
    return session.get(Submission, submission_id)


def submission_for_key(session: Session, *, user_id: int, key: str) -> Submission | None:
    return session.scalar(select(Submission).where(Submission.user_id == user_id, Submission.idempotency_key == key))


def submission_for_draft(session: Session, *, draft_id: int) -> Submission | None:
    return session.scalar(select(Submission).where(Submission.draft_id == draft_id))


def list_submissions(session: Session, *, meter_id: int, register_id: int | None = None) -> Sequence[Submission]:
    q = (
        select(Submission)
        .where(Submission.meter_id == meter_id)
        .order_by(Submission.register_id, Submission.reading_date, Submission.id)
    )
    if register_id is not None:
        q = q.where(Submission.register_id == register_id)
    return session.scalars(q).all()


def review_queue(
    session: Session, *, statuses: Sequence[str] = ("in_review",), kind: str | None = None,
    max_confidence: float | None = None, order: str = "oldest", limit: int = 100, offset: int = 0,
) -> Sequence[Submission]:
    q = select(Submission).join(Meter, Meter.id == Submission.meter_id).where(Submission.status.in_(list(statuses)))
    if kind:
        q = q.where(Meter.kind == kind)
    confidence = func.coalesce(Submission.confidence, 0.0)
    if max_confidence is not None:
        q = q.where(confidence <= max_confidence)
    if order == "confidence":
        q = q.order_by(confidence.asc(), Submission.created_at.asc(), Submission.id.asc())
    else:
        q = q.order_by(Submission.created_at.asc(), Submission.id.asc())
    return session.scalars(q.limit(limit).offset(offset)).all()


# ---- audit -----------------------------------------------------------------------------------


def add_audit(
    session: Session, *, submission: Submission, user_id: int | None, action: str,
    old_value: str | None = None, new_value: str | None = None, old_status: str | None = None,
    new_status: str | None = None, note: str | None = None,
) -> AuditEntry:
    entry = AuditEntry(
        submission_id=submission.id, user_id=user_id, action=action, old_value=old_value, new_value=new_value,
        old_status=old_status, new_status=new_status, note=note,
    )
    session.add(entry)
    session.flush()
    return entry


def list_audit(session: Session, *, submission_id: int) -> Sequence[AuditEntry]:
    return session.scalars(
        select(AuditEntry).where(AuditEntry.submission_id == submission_id).order_by(AuditEntry.at, AuditEntry.id)
    ).all()
