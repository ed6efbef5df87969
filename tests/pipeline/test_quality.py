"""Properties of the quality measures: more blur, more glare, less light each move their score one way."""
import cv2
import numpy as np
import pytest

from pipeline.quality import (
    MESSAGES,
    QualityConfig,
    assess_quality,
    blur_score,
    darkness,
    digit_height_ok,
    glare_fraction,
    percentile_u8,
)


def synthetic_meter(seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """A sharp, well-lit meter face with a drum window; returns the BGR image and the window quad."""
    rng = np.random.default_rng(seed)
    img = np.full((480, 640, 3), 205, np.uint8)
    cv2.circle(img, (320, 240), 220, (225, 225, 225), -1)
    cv2.putText(img, "Nr 40312", (230, 360), cv2.FONT_HERSHEY_SIMPLEX, 1.0, (40, 40, 40), 2, cv2.LINE_AA)
    x0, y0, w, h = 170, 180, 300, 70
    cv2.rectangle(img, (x0, y0), (x0 + w, y0 + h), (20, 20, 20), -1)
    for i, d in enumerate(rng.integers(0, 10, 6)):
        cv2.putText(img, str(d), (x0 + 12 + i * 48, y0 + 55), cv2.FONT_HERSHEY_DUPLEX, 1.8, (235, 235, 235), 3, cv2.LINE_AA)
    noise = rng.normal(0, 3, img.shape)
    img = np.clip(img + noise, 0, 255).astype(np.uint8)
    quad = np.array([[x0, y0], [x0 + w, y0], [x0 + w, y0 + h], [x0, y0 + h]], np.float32)
    return img, quad


def gray(img):
    return cv2.cvtColor(img, cv2.COLOR_BGR2GRAY)


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_blur_score_rises_with_blur(seed):
    g = gray(synthetic_meter(seed)[0])
    scores = [blur_score(cv2.GaussianBlur(g, (0, 0), s) if s else g) for s in (0, 1.5, 3, 6)]
    assert all(0 <= s <= 1 for s in scores)
    assert scores[0] < scores[1] < scores[2] < scores[3]


def test_blur_score_flat_and_tiny_images_are_blurred():
    assert blur_score(np.full((100, 100), 128, np.uint8)) == 1.0
    assert blur_score(np.zeros((4, 4), np.uint8)) == 1.0


def test_glare_rises_with_a_saturated_blob():
    img, quad = synthetic_meter()
    before = glare_fraction(gray(img))
    glared = img.copy()
    cv2.circle(glared, (300, 215), 40, (255, 255, 255), -1)
    after = glare_fraction(gray(glared))
    bigger = img.copy()
    cv2.circle(bigger, (300, 215), 80, (255, 255, 255), -1)
    assert 0 <= before < after < glare_fraction(gray(bigger)) <= 1


def test_glare_ignores_thin_saturated_strokes():
    g = np.full((60, 300), 20, np.uint8)
    for x in range(10, 290, 30):
        g[10:50, x : x + 4] = 255  # over-exposed white digit strokes
    assert glare_fraction(g, blob_px=12) == 0.0
    assert glare_fraction(g, blob_px=1) > 0.0


def test_darkness_rises_when_darkened():
    g = gray(synthetic_meter()[0]).astype(np.float32)
    values = [darkness((g * f).astype(np.uint8)) for f in (1.0, 0.6, 0.3, 0.1)]
    assert all(0 <= v <= 1 for v in values)
    assert values[0] < values[1] < values[2] < values[3]


def test_digit_height():
    assert digit_height_ok(60)
    assert not digit_height_ok(8)
    assert digit_height_ok(10, min_px=10)


def test_sharp_synthetic_meter_passes():
    img, quad = synthetic_meter()
    for report in (assess_quality(img), assess_quality(img, quad)):
        assert report.ok, report.problems
        assert all(c.message is None for c in report.checks)
    names = [c.name for c in assess_quality(img, quad).checks]
    assert names == ["blur", "glare", "dark", "small_digits"]


def test_each_problem_gives_its_message():
    img, quad = synthetic_meter()
    blurred = cv2.GaussianBlur(img, (0, 0), 8)
    assert [c.name for c in assess_quality(blurred, quad).problems] == ["blur"]
    glared = img.copy()
    cv2.ellipse(glared, (300, 215), (60, 40), 0, 0, 360, (255, 255, 255), -1)
    problems = assess_quality(glared, quad).problems
    assert [c.name for c in problems] == ["glare"]
    assert problems[0].message == MESSAGES["glare"]
    dark = (img * 0.15).astype(np.uint8)
    assert "dark" in [c.name for c in assess_quality(dark, quad).problems]
    small = cv2.resize(img, None, fx=0.2, fy=0.2, interpolation=cv2.INTER_AREA)
    assert "small_digits" in [c.name for c in assess_quality(small, quad * 0.2).problems]


def test_glare_outside_the_window_does_not_fail_the_window():
    img, quad = synthetic_meter()
    cv2.circle(img, (560, 420), 50, (255, 255, 255), -1)
    assert assess_quality(img, quad).ok


def test_config_is_frozen_and_explicit():
    cfg = QualityConfig()
    with pytest.raises(Exception):
        cfg.blur_max_window = 0.5  # type: ignore[misc]
    strict = QualityConfig(blur_max_window=0.0)
    img, quad = synthetic_meter()
    assert not assess_quality(img, quad, strict).ok


def test_rendered_meters_without_glare_or_blur_pass():
    """The project's photo renderer (synth/) with glare and blur off: every window passes the checks."""
    import sys
    from pathlib import Path

    sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
    from synth.meters import RenderConfig, photo_seed, render_meter

    for i in range(12):
        img, label = render_meter(photo_seed(5, i), RenderConfig(glare_p=0, blur_p=0))
        report = assess_quality(img, np.asarray(label.window))
        assert report.ok, (i, report.problems)
        height = float(np.ptp(np.asarray(label.window)[:, 1]))
        blurred = cv2.GaussianBlur(img, (0, 0), 0.15 * height)  # blur at the scale of the digit strokes and more
        assert "blur" in [c.name for c in assess_quality(blurred, np.asarray(label.window)).problems]


def test_percentile_of_8_bit_pixels_is_numpys_to_the_bit():
    rng = np.random.default_rng(5)
    for k in range(400):
        shape = tuple(int(v) for v in rng.integers(1, 120, 2))
        g = rng.integers(0, 256, shape, dtype=np.uint8) if k % 2 else rng.integers(100, 103, shape, dtype=np.uint8)
        for q in (10, 50, 90, 99.5):
            assert percentile_u8(g, q) == np.percentile(g, q)
