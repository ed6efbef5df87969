"""Database tables (SQLAlchemy 2.0 ORM). Changes go through an Alembic migration in api/migrations."""
from __future__ import annotations

from datetime import date, datetime, timezone

from sqlalchemy import (
    Date,
    DateTime,
    Float,
    ForeignKey,
    Integer,
    MetaData,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

ROLES = ("customer", "reviewer", "operator")
METER_KINDS = ("electricity", "water", "gas")
# submission statuses; the counted ones enter consumption
SUBMISSION_STATUSES = ("accepted", "in_review", "approved", "corrected", "rejected")
COUNTED_STATUSES = ("accepted", "approved", "corrected")
DRAFT_STATUSES = ("accepted", "needs_review", "rejected")


def utcnow() -> datetime:
    return datetime.now(timezone.utc).replace(tzinfo=None)


class Base(DeclarativeBase):
    metadata = MetaData(
        naming_convention={
            "ix": "ix_%(column_0_label)s",
            "uq": "uq_%(table_name)s_%(column_0_name)s",
            "ck": "ck_%(table_name)s_%(constraint_name)s",
            "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
            "pk": "pk_%(table_name)s",
        }
    )


class Account(Base):
    __tablename__ = "accounts"

    id: Mapped[int] = mapped_column(primary_key=True)
    number: Mapped[str] = mapped_column(String(64), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)

    meters: Mapped[list[Meter]] = relationship(back_populates="account", order_by="Meter.id")
    members: Mapped[list[User]] = relationship(secondary="account_members", back_populates="accounts")


class User(Base):
    __tablename__ = "users"

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(254), unique=True)
    name: Mapped[str | None] = mapped_column(String(200))
    password_hash: Mapped[str] = mapped_column(String(255))
    role: Mapped[str] = mapped_column(String(16))
    active: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)

    accounts: Mapped[list[Account]] = relationship(
        secondary="account_members", back_populates="members", order_by="Account.id"
    )


class AccountMember(Base):
    __tablename__ = "account_members"

    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id", ondelete="CASCADE"), primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), primary_key=True)


class ApiToken(Base):
    """A bearer token: only the sha256 of the random token is stored."""

    __tablename__ = "api_tokens"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(DateTime)

    user: Mapped[User] = relationship()


class Meter(Base):
    __tablename__ = "meters"

    id: Mapped[int] = mapped_column(primary_key=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id"), index=True)
    serial: Mapped[str] = mapped_column(String(64), unique=True)
    kind: Mapped[str] = mapped_column(String(16))
    integer_digits: Mapped[int] = mapped_column(Integer)
    fractional_digits: Mapped[int] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)

    account: Mapped[Account] = relationship(back_populates="meters")
    registers: Mapped[list[MeterRegister]] = relationship(
        back_populates="meter", order_by="MeterRegister.position", cascade="all, delete-orphan"
    )


class MeterRegister(Base):
    """A tariff register of a meter (T1, T2...); every meter has at least one."""

    __tablename__ = "registers"
    __table_args__ = (UniqueConstraint("meter_id", "name", name="uq_registers_meter_id_name"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    meter_id: Mapped[int] = mapped_column(ForeignKey("meters.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(32))
    position: Mapped[int] = mapped_column(Integer, default=0)

    meter: Mapped[Meter] = relationship(back_populates="registers")


class Draft(Base):
    """What the recognizer read from one uploaded photo, before the customer confirms it."""

    __tablename__ = "drafts"

    id: Mapped[int] = mapped_column(primary_key=True)
    meter_id: Mapped[int] = mapped_column(ForeignKey("meters.id"), index=True)
    register_id: Mapped[int] = mapped_column(ForeignKey("registers.id"))
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    photo_sha256: Mapped[str] = mapped_column(String(64))
    photo_ext: Mapped[str] = mapped_column(String(8))
    photo_size: Mapped[int] = mapped_column(Integer)
    crop_sha256: Mapped[str | None] = mapped_column(String(64))
    debug_sha256: Mapped[str | None] = mapped_column(String(64))
    status: Mapped[str] = mapped_column(String(16))
    reading: Mapped[str | None] = mapped_column(String(32))
    confidence: Mapped[float] = mapped_column(Float, default=0.0)
    reason: Mapped[str | None] = mapped_column(Text)
    result_json: Mapped[str] = mapped_column(Text)  # ReadResult.to_dict()
    plausibility_json: Mapped[str | None] = mapped_column(Text)
    photo_date: Mapped[date] = mapped_column(Date)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)

    meter: Mapped[Meter] = relationship()
    register: Mapped[MeterRegister] = relationship()


class Submission(Base):
    """A reading the customer (or an operator) stands by: from a confirmed draft or entered by hand."""

    __tablename__ = "submissions"
    __table_args__ = (
        UniqueConstraint("user_id", "idempotency_key", name="uq_submissions_user_id_idempotency_key"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    meter_id: Mapped[int] = mapped_column(ForeignKey("meters.id"), index=True)
    register_id: Mapped[int] = mapped_column(ForeignKey("registers.id"), index=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    draft_id: Mapped[int | None] = mapped_column(ForeignKey("drafts.id"), unique=True)
    source: Mapped[str] = mapped_column(String(16))  # photo | manual | email
    value: Mapped[str] = mapped_column(String(32))  # the value standing now (after correction)
    submitted_value: Mapped[str] = mapped_column(String(32))  # what the customer confirmed / entered
    read_value: Mapped[str | None] = mapped_column(String(32))  # what the recognizer read
    confidence: Mapped[float | None] = mapped_column(Float)
    status: Mapped[str] = mapped_column(String(16), index=True)
    review_reason: Mapped[str | None] = mapped_column(Text)  # why it went to review
    reject_reason: Mapped[str | None] = mapped_column(Text)  # shown to the customer
    reading_date: Mapped[date] = mapped_column(Date)
    idempotency_key: Mapped[str | None] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    reviewed_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    reviewed_at: Mapped[datetime | None] = mapped_column(DateTime)

    meter: Mapped[Meter] = relationship()
    register: Mapped[MeterRegister] = relationship()
    user: Mapped[User] = relationship(foreign_keys=[user_id])
    draft: Mapped[Draft | None] = relationship()


class AuditEntry(Base):
    """Every change of a submission: who, when, what, old and new value."""

    __tablename__ = "audit_entries"

    id: Mapped[int] = mapped_column(primary_key=True)
    submission_id: Mapped[int] = mapped_column(ForeignKey("submissions.id", ondelete="CASCADE"), index=True)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    action: Mapped[str] = mapped_column(String(32))
    old_value: Mapped[str | None] = mapped_column(String(32))
    new_value: Mapped[str | None] = mapped_column(String(32))
    old_status: Mapped[str | None] = mapped_column(String(16))
    new_status: Mapped[str | None] = mapped_column(String(16))
    note: Mapped[str | None] = mapped_column(Text)

    user: Mapped[User | None] = relationship()
