"""Pydantic models of the HTTP edge only (requests and responses)."""
from __future__ import annotations

from datetime import date, datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

Role = Literal["customer", "reviewer", "operator"]
MeterKind = Literal["electricity", "water", "gas"]

Date = date


class Out(BaseModel):
    model_config = ConfigDict(from_attributes=True, populate_by_name=True)


# "register" (a tariff register) would shadow ABCMeta.register: the attribute is register_name, the JSON "register"
def RegisterName():
    return Field(alias="register", description="Tariff register (T1, T2...)")


class Token(BaseModel):
    access_token: str
    token_type: str = "bearer"
    expires_at: datetime


class AccountIn(BaseModel):
    number: str = Field(min_length=1, max_length=64)
    name: str = Field(min_length=1, max_length=200)


class AccountOut(Out):
    id: int
    number: str
    name: str


class MemberIn(BaseModel):
    user_id: int


class UserIn(BaseModel):
    email: str = Field(min_length=3, max_length=254, pattern=r"^[^@\s]+@[^@\s]+$")
    password: str = Field(min_length=8, max_length=256)
    role: Role = "customer"
    name: str | None = Field(default=None, max_length=200)
    account_ids: list[int] = Field(default_factory=list)


class UserOut(Out):
    id: int
    email: str
    name: str | None
    role: Role
    account_ids: list[int] = Field(default_factory=list)


class RegisterOut(Out):
    id: int
    name: str


class RegisterIn(BaseModel):
    name: str = Field(min_length=1, max_length=32)


class MeterIn(BaseModel):
    account_id: int
    serial: str = Field(min_length=1, max_length=64)
    kind: MeterKind
    integer_digits: int = Field(ge=1, le=12)
    fractional_digits: int = Field(default=0, ge=0, le=6)
    registers: list[str] = Field(default_factory=lambda: ["T1"], min_length=1, max_length=8)


class MeterOut(Out):
    id: int
    account_id: int
    serial: str
    kind: MeterKind
    integer_digits: int
    fractional_digits: int
    registers: list[RegisterOut]


class DigitOut(BaseModel):
    value: str
    confidence: float
    fractional: bool
    rolling: bool = False
    alternative: str | None = None


class PlausibilityOut(BaseModel):
    previous: str | None = None
    previous_date: date | None = None
    consumption: float | None = None
    days: int | None = None
    per_day: float | None = None
    ok: bool = True
    reason: str | None = None
    rollover: bool = False


class DraftOut(Out):
    id: int
    meter_id: int
    register_name: str = RegisterName()
    status: Literal["accepted", "needs_review", "rejected"]
    reading: str | None
    confidence: float
    digits: list[DigitOut]
    reason: str | None
    plausibility: PlausibilityOut | None
    photo_date: date
    turned: bool = Field(default=False, description="The photo was taken upside down or sideways and read turned; the crop shows it upright.")
    rotation: int = Field(default=0, description="Degrees clockwise the photo was turned to be read: 180 upside down, 90 or 270 sideways.")
    photo_url: str
    crop_url: str | None
    debug_url: str | None
    confirm_url: str
    submission_id: int | None = None
    created_at: datetime


class ConfirmIn(BaseModel):
    value: str | None = Field(default=None, max_length=32, description="The corrected value; omit to confirm the read one.")


class ReadingIn(Out):
    value: str = Field(min_length=1, max_length=32)
    register_name: str | None = Field(default=None, alias="register", description="Tariff register; default the first")
    date: Date | None = None
    note: str | None = Field(default=None, max_length=1000)


class SubmissionOut(Out):
    id: int
    meter_id: int
    register_name: str = RegisterName()
    user_id: int
    draft_id: int | None
    source: Literal["photo", "manual", "email"]
    value: str
    submitted_value: str
    read_value: str | None
    confidence: float | None
    status: Literal["accepted", "in_review", "approved", "corrected", "rejected"]
    review_reason: str | None
    reject_reason: str | None
    reading_date: date
    created_at: datetime
    reviewed_by: int | None
    reviewed_at: datetime | None


class SkippedPhoto(BaseModel):
    name: str
    code: str | None
    reason: str | None


class MailReceiptOut(BaseModel):
    status: Literal["accepted", "in_review", "not_read"] = Field(
        description="accepted: the reading is recorded; in_review: a reviewer checks it first; not_read: nothing "
                    "was read surely enough to submit (the draft stays for the customer)")
    message: str = Field(description="The reply to send the customer")
    meter_id: int
    meter_serial: str
    draft: DraftOut | None
    submission: SubmissionOut | None
    skipped: list[SkippedPhoto] = Field(default_factory=list, description="Attachments that were not usable photos")
    replayed: bool = Field(default=False, description="The same message (Message-ID) was received before: nothing new was made")


class QueueItem(SubmissionOut):
    meter_serial: str
    meter_kind: MeterKind
    photo_url: str | None


class CorrectIn(BaseModel):
    value: str = Field(min_length=1, max_length=32)
    note: str | None = Field(default=None, max_length=1000)


class RejectIn(BaseModel):
    reason: str = Field(min_length=1, max_length=1000)


class AuditOut(Out):
    id: int
    submission_id: int
    user_id: int | None
    user_email: str | None
    at: datetime
    action: str
    old_value: str | None
    new_value: str | None
    old_status: str | None
    new_status: str | None
    note: str | None


class HistoryRow(BaseModel):
    submission_id: int
    date: Date
    value: str
    submitted_value: str
    read_value: str | None
    status: str
    source: str
    photo_url: str | None = None
    counted: bool
    consumption: float | None
    days: int | None
    per_day: float | None
    previous_value: str | None
    review_reason: str | None
    reject_reason: str | None
    created_at: datetime


class RegisterHistory(Out):
    register_name: str = RegisterName()
    readings: list[HistoryRow]


class HistoryOut(BaseModel):
    meter_id: int
    serial: str
    kind: MeterKind
    registers: list[RegisterHistory]
