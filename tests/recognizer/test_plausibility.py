from datetime import date

from recognizer.plausibility import check, choose_rolling
from recognizer.result import DigitRead


def test_no_previous_means_no_check():
    assert check("00123", None) is None


def test_forward_reading_is_plausible_with_consumption():
    p = check("00130.5", "00123.0")
    assert p.ok and p.consumption == 7.5


def test_reading_below_previous_is_flagged():
    p = check("00120", "00123")
    assert not p.ok and "below the previous" in p.reason


def test_rollover_from_all_nines_is_not_backwards():
    p = check("00012", "99987")
    assert p.ok and p.consumption == 25


def test_implausible_consumption_per_day():
    p = check("05000", "00100", previous_date=date(2026, 1, 1), photo_date=date(2026, 1, 11), max_per_day=200)
    assert not p.ok and p.per_day == 490


def test_plausible_consumption_per_day():
    p = check("00200", "00100", previous_date=date(2026, 1, 1), photo_date=date(2026, 1, 11))
    assert p.ok and p.per_day == 10


def _d(v, rolling=False, alt=None):
    return DigitRead(v, 0.6 if rolling else 0.99, False, rolling, alt)


def test_rolling_digit_is_decided_by_the_previous_reading():
    # the last drum is between 4 and 5; the meter read 01235 last month, so 5 is right
    digits = [_d("0"), _d("1"), _d("2"), _d("3"), _d("4", True, "5")]
    out = choose_rolling(digits, 5, "01235")
    assert "".join(d.value for d in out) == "01235"


def test_rolling_digit_keeps_the_smaller_step_when_both_are_plausible():
    digits = [_d("0"), _d("1"), _d("2"), _d("3"), _d("5", True, "4")]
    out = choose_rolling(digits, 5, "01200")
    assert "".join(d.value for d in out) == "01234"
