"""Digit classifier (recognizer/classifier.py): model file, card, batching, synthetic and fixture crops."""
from __future__ import annotations

import json
import sys
from pathlib import Path

import numpy as np
import pytest

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO / "training"))

from recognizer.classifier import (  # noqa: E402
    DEFAULT_CARD,
    DEFAULT_MODEL,
    INPUT_H,
    INPUT_W,
    DigitClassifier,
    DigitGuess,
    default_classifier,
    guess_from_probs,
    preprocess,
    sha256_file,
    wheel_position,
)
from recognizer.digits_eval import evaluate_digits, format_report, is_right, label_kind  # noqa: E402

FIXTURES = REPO / "tests" / "fixtures" / "digits"
SHARED_LABELS = REPO.parent / "shared" / "data" / "digits" / "labels.csv"


@pytest.fixture(scope="module")
def clf() -> DigitClassifier:
    return default_classifier()


def test_model_file_and_card():
    assert DEFAULT_MODEL.is_file()
    assert DEFAULT_MODEL.stat().st_size < 8 * 1024 * 1024
    card = json.loads(DEFAULT_CARD.read_text())
    assert card["sha256"] == sha256_file(DEFAULT_MODEL)
    assert card["input"]["shape"][1:] == [1, INPUT_H, INPUT_W]
    assert len(card["classes"]) == 11


def test_preprocess_contract():
    rng = np.random.default_rng(0)
    bgr = rng.integers(0, 256, (57, 29, 3), dtype=np.uint8)
    x = preprocess(bgr)
    assert x.shape == (INPUT_H, INPUT_W) and x.dtype == np.float32
    assert abs(float(x.mean())) < 0.2 and np.abs(x).max() <= 4.0
    gray = preprocess(bgr[:, :, 0])
    assert gray.shape == (INPUT_H, INPUT_W)
    flat = preprocess(np.full((40, 20), 128, np.uint8))
    assert np.allclose(flat, 0)


def test_classify_batched_one_guess_per_crop(clf):
    rng = np.random.default_rng(1)
    crops = [rng.integers(0, 256, (int(rng.integers(10, 90)), int(rng.integers(8, 60)), 3), dtype=np.uint8)
             for _ in range(7)] + [rng.integers(0, 256, (30, 20), dtype=np.uint8)]
    clf._load()
    calls = []
    real_run = clf._session.run

    class Spy:
        def __init__(self, sess):
            self._s = sess

        def run(self, *a, **k):
            calls.append(a[1]["input"].shape)
            return real_run(*a, **k)

        def __getattr__(self, name):
            return getattr(self._s, name)

    sess = clf._session
    clf._session = Spy(sess)
    try:
        guesses = clf.classify(crops)
    finally:
        clf._session = sess
    assert len(calls) == 1 and calls[0][0] == len(crops)
    assert len(guesses) == len(crops)
    for g in guesses:
        assert isinstance(g, DigitGuess)
        assert g.probs.shape == (11,)
        assert abs(float(g.probs.sum()) - 1.0) < 1e-4
        assert -1 <= g.value <= 9 and 0 <= g.position < 10
    assert clf.classify([]) == []


def test_synthetic_digits_read_right(clf):
    from render_digits import render_sample

    rng = np.random.default_rng(1234)
    crops, want = [], []
    for i in range(300):
        kind = "lcd" if i % 3 == 0 else "drum"
        img, t = render_sample(rng, kind=kind, value=float(i % 10))
        crops.append(img)
        want.append(int(np.argmax(t[:10])))
    got = [g.value for g in clf.classify(crops)]
    acc = float(np.mean([a == b for a, b in zip(got, want)]))
    assert acc >= 0.95, acc


def test_rolling_drum_4_5(clf):
    from render_digits import augment, render_drum, ttf_fonts

    # DejaVu only: the figures must not depend on which other fonts the machine has
    dejavu = [i for i, f in enumerate(ttf_fonts()) if "DejaVu" in f]
    rng = np.random.default_rng(45)
    crops = [np.clip(render_drum(rng, 4.5, font_id=int(rng.choice(dejavu)))[0], 0, 255).astype(np.uint8) for _ in range(10)]
    crops += [augment(render_drum(rng, 4.5, font_id=int(rng.choice(dejavu)))[0], rng) for _ in range(10)]
    ok = 0
    for g in clf.classify(crops):
        if g.value in (4, 5) and g.rolling and g.neighbour in (4, 5):
            ok += 1
    assert ok >= 16, ok
    g = clf.classify([crops[0]])[0]
    assert 3.8 <= g.position <= 5.2


def test_blank_patch_is_not_a_digit(clf):
    blanks = [np.full((48, 32, 3), 200, np.uint8), np.full((40, 24), 20, np.uint8),
              np.dstack([np.full((60, 40), 30, np.uint8), np.full((60, 40), 30, np.uint8),
                         np.full((60, 40), 180, np.uint8)])]
    for g in clf.classify(blanks):
        # a blank patch is never read as a sure digit
        assert g.value == -1 or g.confidence < 0.5


def test_guess_from_probs_rolling_and_wrap():
    p = np.zeros(11)
    p[9], p[0] = 0.55, 0.45
    g = guess_from_probs(p)
    assert g.value == 9 and g.rolling and g.neighbour == 0
    assert g.position > 9.0 or g.position < 0.5
    p = np.zeros(11)
    p[4] = 1.0
    g = guess_from_probs(p)
    assert g.value == 4 and not g.rolling and g.neighbour is None and abs(g.position - 4) < 1e-6
    p = np.zeros(11)
    p[10], p[3] = 0.8, 0.2
    assert guess_from_probs(p).value == -1
    assert abs(wheel_position(np.eye(10)[7]) - 7) < 1e-6


def test_scoring_rule():
    class G:
        def __init__(self, value, rolling=False, neighbour=None):
            self.value, self.rolling, self.neighbour = value, rolling, neighbour

    assert label_kind("4.0") == ("settled", 4, None)
    assert label_kind("4.9") == ("settled", 5, None)
    assert label_kind("9.9") == ("settled", 0, None)
    assert label_kind("4.5") == ("rolling", 4, 5)
    assert label_kind("NaN")[0] == "nan"
    assert is_right("4.3", G(5)) and is_right("4.3", G(4)) and not is_right("4.3", G(6))
    assert is_right("7", G(7)) and not is_right("7", G(1))
    assert is_right("NaN", G(3, True, 4)) and not is_right("NaN", G(-1))


def test_fixture_crops(clf):
    res = evaluate_digits(FIXTURES / "labels.csv", clf)
    assert res["overall"]["n"] == 20
    assert res["overall"]["accuracy"] >= 0.9, format_report(res)
    assert "haverland" in format_report(res)


@pytest.mark.shared_data
@pytest.mark.skipif(not SHARED_LABELS.is_file(), reason="../shared/data absent")
def test_shared_digits_sample(clf):
    res = evaluate_digits(SHARED_LABELS, clf, sources=["haverland"], limit=400)
    assert res["overall"]["accuracy"] >= 0.9, format_report(res)
