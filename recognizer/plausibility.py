"""A reading against the previous one: no going backwards (except a roll-over from all nines), no
implausible consumption, and the choice between the two candidates of a rolling digit."""
from __future__ import annotations

from datetime import date
from decimal import Decimal, InvalidOperation

from .result import DigitRead, Plausibility


def to_number(reading: str | None) -> Decimal | None:
    if not reading:
        return None
    try:
        return Decimal(reading.replace(",", "."))
    except InvalidOperation:
        return None


def check(
    reading: str | None,
    previous: str | None,
    *,
    previous_date: date | None = None,
    photo_date: date | None = None,
    max_per_day: float = 200.0,
    max_consumption_no_dates: float = 5000.0,
) -> Plausibility | None:
    if previous is None:
        return None
    cur, prev = to_number(reading), to_number(previous)
    if prev is None:
        return Plausibility(previous, None, None, False, "The previous reading is not a number.")
    if cur is None:
        return Plausibility(previous, None, None, False, "No reading to compare with the previous one.")
    consumption = cur - prev
    if consumption < 0:
        int_digits = len(previous.split(".")[0])
        modulus = Decimal(10) ** int_digits
        # a counter that rolled over from all nines: 99987 -> 00012
        if prev > modulus * Decimal("0.9") and cur < modulus * Decimal("0.1"):
            consumption = cur + modulus - prev
        else:
            return Plausibility(previous, float(consumption), None, False,
                                f"The reading {reading} is below the previous reading {previous}: meters do not run backwards.")
    days = (photo_date - previous_date).days if previous_date and photo_date else None
    per_day = float(consumption) / days if days and days > 0 else None
    if per_day is not None and per_day > max_per_day:
        return Plausibility(previous, float(consumption), per_day, False,
                            f"Consumption of {float(consumption):g} in {days} days is implausibly high.")
    if per_day is None and consumption > Decimal(str(max_consumption_no_dates)):
        return Plausibility(previous, float(consumption), None, False,
                            f"Consumption of {float(consumption):g} since the previous reading is implausibly high.")
    return Plausibility(previous, float(consumption), per_day, True, None)


def choose_rolling(digits: list[DigitRead], frac_start: int, previous: str | None) -> list[DigitRead]:
    """Where a rolling digit's two candidates straddle the previous reading, keep the one not below it."""
    if previous is None or not any(d.rolling for d in digits):
        return digits
    prev = to_number(previous)
    if prev is None:
        return digits
    out = list(digits)
    for i, d in enumerate(digits):
        if not d.rolling or d.alternative is None:
            continue
        def as_number(ds: list[DigitRead]) -> Decimal | None:
            s = "".join(x.value for x in ds[:frac_start])
            if frac_start < len(ds):
                s += "." + "".join(x.value for x in ds[frac_start:])
            return to_number(s)
        alt = out.copy()
        alt[i] = DigitRead(d.alternative, d.confidence, d.fractional, True, d.value)
        cur_n, alt_n = as_number(out), as_number(alt)
        if cur_n is None or alt_n is None:
            continue
        # the candidate that keeps the meter from running backwards, and the smaller step otherwise
        if cur_n < prev <= alt_n or (cur_n >= prev and alt_n >= prev and alt_n < cur_n):
            out = alt
    return out
