"""Meter values as text ("00414.676"): parsing, formatting, consumption and plausibility."""
from __future__ import annotations

import re
from dataclasses import asdict, dataclass
from datetime import date
from decimal import Decimal, InvalidOperation

_VALUE_RE = re.compile(r"^\s*(\d+)(?:[.,](\d*))?\s*$")


class ValueFormatError(ValueError):
    pass


def normalize_value(value: str, *, integer_digits: int, fractional_digits: int) -> str:
    """'414,676' -> '00414.676' for a 5+3 meter; refuses what the meter cannot show."""
    m = _VALUE_RE.match(value or "")
    if not m:
        raise ValueFormatError(f"{value!r} is not a meter reading: use digits and an optional decimal point, e.g. 00414.676.")
    whole, frac = m.group(1), m.group(2) or ""
    whole = whole.lstrip("0") or "0"
    if len(whole) > integer_digits:
        raise ValueFormatError(f"{value!r} has more than the meter's {integer_digits} integer digits.")
    frac = frac.rstrip("0") if len(frac) > fractional_digits else frac
    if len(frac) > fractional_digits:
        raise ValueFormatError(f"{value!r} has more than the meter's {fractional_digits} fractional digits.")
    whole = whole.zfill(integer_digits)
    if fractional_digits:
        return f"{whole}.{frac.ljust(fractional_digits, '0')}"
    return whole


def to_decimal(value: str | None) -> Decimal | None:
    if value is None:
        return None
    try:
        return Decimal(value.replace(",", "."))
    except InvalidOperation:
        return None


def is_rollover_candidate(previous: str) -> bool:
    """The counter may wrap to zero when its leading digit is 9 (on the way to all nines)."""
    digits = previous.replace(".", "").replace(",", "")
    return bool(digits) and digits[0] == "9"


@dataclass(frozen=True)
class PlausibilityCheck:
    previous: str | None
    previous_date: date | None
    consumption: float | None
    days: int | None
    per_day: float | None
    ok: bool
    reason: str | None
    rollover: bool = False

    def to_dict(self) -> dict:
        d = asdict(self)
        d["previous_date"] = self.previous_date.isoformat() if self.previous_date else None
        return d


def consumption_between(previous: str, value: str, *, integer_digits: int) -> tuple[Decimal, bool]:
    """Consumption from previous to value, and whether the counter wrapped past all nines."""
    prev, cur = Decimal(previous), Decimal(value)
    if cur >= prev:
        return cur - prev, False
    return cur + Decimal(10) ** integer_digits - prev, True


def check_plausibility(
    value: str,
    *,
    previous: str | None,
    previous_date: date | None,
    reading_date: date | None,
    integer_digits: int,
    max_per_day: float,
    max_consumption_no_dates: float,
) -> PlausibilityCheck:
    if previous is None:
        return PlausibilityCheck(None, None, None, None, None, True, None)
    consumption, rollover = consumption_between(previous, value, integer_digits=integer_digits)
    days = (reading_date - previous_date).days if (reading_date and previous_date) else None
    base = dict(previous=previous, previous_date=previous_date, consumption=float(consumption), days=days)
    if rollover and not is_rollover_candidate(previous):
        return PlausibilityCheck(
            **base, per_day=None, ok=False, rollover=False,
            reason=f"The reading {value} is below the previous reading {previous}.",
        )
    if days is not None and days < 0:
        return PlausibilityCheck(
            **base, per_day=None, ok=False, rollover=rollover,
            reason=f"The reading date is before the previous reading's ({previous_date.isoformat()}).",
        )
    if days is None:
        ok = float(consumption) <= max_consumption_no_dates
        return PlausibilityCheck(
            **base, per_day=None, ok=ok, rollover=rollover,
            reason=None if ok else f"Consumption of {consumption} since the previous reading is implausibly high.",
        )
    per_day = float(consumption) / max(days, 1)
    ok = per_day <= max_per_day
    return PlausibilityCheck(
        **base, per_day=round(per_day, 4), ok=ok, rollover=rollover,
        reason=None if ok else (
            f"Consumption of {consumption} in {max(days, 1)} day(s) ({per_day:.1f} per day) is implausibly high."
        ),
    )
