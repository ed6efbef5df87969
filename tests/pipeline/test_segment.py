"""Red fractional drums and points inside a deskewed strip."""
from __future__ import annotations

import cv2
import numpy as np

from pipeline.segment import red_drums, red_share, red_shares


def _strip(digit_colours: list[tuple[int, int, int]], drum=(235, 235, 235), tint=(0, 0, 0)) -> np.ndarray:
    """Digits drawn as thick bars of the given BGR colours on light drums, under a warm light ``tint``."""
    img = np.zeros((48, 40 * len(digit_colours), 3), np.uint8)
    for i, c in enumerate(digit_colours):
        img[:, i * 40 + 2:(i + 1) * 40 - 2] = drum
        cv2.putText(img, "8", (i * 40 + 8, 40), cv2.FONT_HERSHEY_SIMPLEX, 1.2, c, 3)
    return cv2.add(img, np.full_like(img, tint))


def _shares(img: np.ndarray) -> list[float]:
    return [red_share(img, i * 40, 10, (i + 1) * 40, 38) for i in range(img.shape[1] // 40)]


BLACK, RED = (20, 20, 20), (30, 30, 200)


def test_red_digits_on_white_drums_are_fractional():
    img = _strip([BLACK] * 5 + [RED] * 3)
    assert red_drums(_shares(img)) == [False] * 5 + [True] * 3


def test_no_red_drum_on_a_black_and_white_counter_nor_under_a_warm_light():
    assert not any(red_drums(_shares(_strip([BLACK] * 8))))
    assert not any(red_drums(_shares(_strip([BLACK] * 8, tint=(0, 25, 60)))))


def test_a_red_drum_face_is_red_whatever_the_left_drums():
    shares = [0.0, 0.0, 0.0, 0.0, 0.6]
    assert red_drums(shares) == [False] * 4 + [True]
    # the drums on the left reddish too (a red cast over the photo): faint red digits are not told apart
    assert red_drums([0.05, 0.05, 0.05, 0.05, 0.08]) == [False] * 5
    assert red_drums([]) == []


def test_red_shares_of_spans_equal_each_box_measured_alone():
    rng = np.random.default_rng(3)
    img = rng.integers(0, 256, (48, 200, 3), dtype=np.uint8)
    img[:, 120:160] = (30, 30, 220)  # one red drum
    spans = [(0, 40), (35, 80), (120, 160), (190, 230), (-5, 10)]
    assert red_shares(img, spans, 9, 38) == [red_share(img, x0, 9, x1, 38) for x0, x1 in spans]
    assert red_shares(img, spans, 9, 38)[2] > 0.9
