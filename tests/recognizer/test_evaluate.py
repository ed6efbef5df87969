"""Scoring: pure functions from (label row, result dict) to scores, summaries and causes."""
import pytest

from recognizer.evaluate import (
    CAUSES,
    classify_cause,
    coverage_curve,
    format_table,
    integer_part,
    score_row,
    split_registers,
    summarise,
)

QUAD = [[100, 100], [300, 100], [300, 150], [100, 150]]


def result(reading, status="accepted", confidence=0.95, window=QUAD, rolling=(), error=None, registers=None):
    digits = [{"value": c, "confidence": 0.9, "fractional": False, "rolling": i in rolling} for i, c in enumerate((reading or "").replace(".", ""))]
    regs = registers if registers is not None else ([{"reading": reading, "window": window}] if reading else [])
    return {"status": status, "reading": reading, "confidence": confidence, "window": window if reading or window else None,
            "digits": digits, "registers": regs, "error": error}


def label(reading, source="s", window=""):
    return {"file": "a.jpg", "reading": reading, "meter_kind": "water", "window": window, "source": source}


def test_parsing():
    assert split_registers("123.4+0567") == ("123.4", "0567")
    assert split_registers("") == () and split_registers(None) == ()
    assert integer_part("00414.676") == "00414"


def test_right_and_accepted():
    s = score_row(label("00414.676"), result("00414.676"))
    assert s["int_exact"] and s["full_exact"] and s["accepted"] and s["cause"] is None


def test_leading_zeros_strict_and_lenient():
    s = score_row(label("00414"), result("0414"))
    assert s["int_exact"] is False and s["int_exact_nozeros"] is True
    assert s["cause"] == "wrong digit count / wrong window"


def test_integer_only_label_scores_integer_part():
    s = score_row(label("33"), result("33.01"))
    assert s["int_exact"] and s["full_exact"] is None and s["cause"] is None


def test_unlabelled_rows_are_not_scored():
    s = score_row(label(""), result("123"))
    assert s["labelled"] is False and s["int_exact"] is None
    summary = summarise([s])
    assert summary["overall"]["n"] == 1 and summary["overall"]["n_labelled"] == 0 and summary["overall"]["int_exact"] is None


def test_window_found_uses_labelled_box():
    assert score_row(label("1", window="90,90,220,70"), result("1"))["window_found"]
    assert not score_row(label("1", window="600,600,50,20"), result("1"))["window_found"]
    assert not score_row(label("1"), result(None, status="rejected", window=None))["window_found"]


def test_two_registers():
    s = score_row(label("62905+22502"), result("62905", registers=[{"reading": "62905"}, {"reading": "22502"}]))
    assert s["int_exact"] and s["all_registers_int_exact"]


@pytest.mark.parametrize(
    "truth, guess, kw, cause",
    [
        ("00414.676", "004146.76", {}, "fraction boundary"),
        ("00414.676", "00414.67", {}, "fraction boundary"),
        ("00414.676", "00415.676", {}, "digit misread"),  # off by one, but the next digit (6) is no carry
        ("00419.076", "00418.076", {}, "rolling digit"),
        ("00414.676", "00814.676", {}, "digit misread"),
        ("00414", "00415", {}, "rolling digit"),  # the last drum
        ("59", "58.21", {}, "rounded label"),  # the pump shows 58.21, its label rounds it up
        ("00414", "00484", {"rolling": (3,)}, "rolling digit"),
        ("00414", "0041", {}, "wrong digit count / wrong window"),
        ("00414", "12345678", {}, "wrong digit count / wrong window"),
        ("00414", "00414", {"status": "needs_review"}, "right but not accepted"),
        ("00414", None, {"status": "rejected", "window": None}, "window not found"),
        ("00414", None, {"status": "rejected", "window": None, "error": "truncated"}, "bad file"),
        ("00414", None, {"status": "rejected", "window": None, "error": "internal_error"}, "internal error"),
    ],
)
def test_causes(truth, guess, kw, cause):
    s = score_row(label(truth), result(guess, **kw))
    assert s["cause"] == cause
    assert s["cause"] in CAUSES


def test_classify_cause_is_none_when_right():
    s = score_row(label("123"), result("123"))
    assert classify_cause(s, result("123")) is None


def rows():
    out = []
    for i in range(10):
        truth = f"{i:05d}"
        guess = truth if i < 7 else "99999"
        out.append(score_row(label(truth, source="a" if i < 5 else "b"), result(guess, confidence=i / 10, status="accepted" if i >= 3 else "needs_review")))
    return out


def test_summarise_rates():
    summary = summarise(rows())
    o = summary["overall"]
    assert o["n"] == 10 and o["n_labelled"] == 10
    assert o["int_exact"] == pytest.approx(0.7)
    assert o["accepted"] == pytest.approx(0.7)
    assert o["precision"] == pytest.approx(4 / 7)
    assert set(summary["by_source"]) == {"a", "b"}
    assert summary["by_source"]["a"]["int_exact"] == 1.0
    assert sum(summary["causes"].values()) == 3 + 3


def test_coverage_curve_is_monotone_in_coverage():
    curve = coverage_curve(rows(), points=10)
    assert 2 <= len(curve) <= 10
    cov = [p["coverage"] for p in curve]
    assert cov == sorted(cov, reverse=True) and cov[0] == 1.0
    assert curve[0]["accuracy"] == pytest.approx(0.7)
    assert coverage_curve([]) == []


def test_format_table():
    text = format_table(summarise(rows()), coverage_curve(rows()))
    lines = text.splitlines()
    assert lines[0].startswith("source") and any(l.startswith("overall") for l in lines)
    assert "70.0%" in text and "threshold" in text and "digit misread" in text


def test_rounded_label_is_its_own_column():
    # the fuel pump shows 22.54 and its label says 23: right by rounding, wrong by the integer part
    s = score_row(label("23"), result("22.54"))
    assert s["int_exact"] is False and s["int_or_rounded"] is True
    assert score_row(label("22"), result("22.54"))["int_or_rounded"] is True  # the integer part still counts
    assert score_row(label("23"), result("2254"))["int_or_rounded"] is False  # no point read: no rounding
    assert score_row(label("23.5"), result("22.54"))["int_or_rounded"] is False  # the label has a fraction
    assert score_row(label("59"), result("58.21"))["int_or_rounded"] is True  # rounded up
    assert score_row(label("48"), result("47.00"))["int_or_rounded"] is False  # 47.00 rounds to 47 either way
    assert score_row(label("60"), result("58.21"))["int_or_rounded"] is False


def test_the_largest_source_apart_from_the_others_together():
    scored = []
    for i in range(12):  # a big source read right, two small ones read half right
        scored.append(score_row(label(f"{i:05d}", source="big"), result(f"{i:05d}")))
    for i, src in enumerate(["s1", "s1", "s2", "s2"]):
        scored.append(score_row(label(f"{i:05d}", source=src), result(f"{i:05d}" if i % 2 == 0 else "77777")))
    summary = summarise(scored)
    big, rest = summary["all_but"]
    assert big == "big" and rest["n_labelled"] == 4 and rest["int_exact"] == pytest.approx(0.5)
    assert any(line.startswith("all but big") and "50.0%" in line for line in format_table(summary).splitlines())
    assert "all_but" not in summarise(scored[:12])  # one source: nothing to set apart
