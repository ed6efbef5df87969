"""Inside a deskewed window strip: the red (fractional) drums, and a decimal point the reader missed."""
from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np


@dataclass(frozen=True)
class SegmentConfig:
    red_share: float = 0.25  # share of red pixels that makes a drum red
    # red digits on a white drum colour only their strokes: a smaller share counts where the drums on the
    # left have next to none (a warm light tints every drum a little, the integer ones included)
    red_ink_share: float = 0.03
    red_over_left: float = 4.0


def _odd(v: float) -> int:
    v = max(3, int(v))
    return v if v % 2 else v + 1


def _red_mask(bgr: np.ndarray) -> np.ndarray:
    hsv = cv2.cvtColor(bgr, cv2.COLOR_BGR2HSV)
    h, s, v = hsv[..., 0], hsv[..., 1], hsv[..., 2]
    return ((h <= 10) | (h >= 165)) & (s >= 110) & (v >= 60)


def red_share(window_bgr: np.ndarray, x0: int, y0: int, x1: int, y1: int) -> float:
    """Share of strongly red pixels in a box of the strip (0 to 1)."""
    return red_shares(window_bgr, [(x0, x1)], y0, y1)[0]


def red_shares(window_bgr: np.ndarray, spans: list[tuple[int, int]], y0: int, y1: int) -> list[float]:
    """:func:`red_share` of each column span ``(x0, x1)`` between rows ``y0`` and ``y1``, the strip's colours
    converted once instead of once a digit."""
    H, W = window_bgr.shape[:2]
    band = _red_mask(window_bgr[max(0, y0) : min(H, y1)])
    out = []
    for x0, x1 in spans:
        region = band[:, max(0, x0) : min(W, x1)]
        out.append(float(region.mean()) if region.size else 0.0)
    return out


def red_drums(shares: list[float], cfg: SegmentConfig = SegmentConfig()) -> list[bool]:
    """Which drums of a row are red, from their :func:`red_share`: a red drum face, or red digits on a white
    drum, judged against the left half of the row (integer drums, never red)."""
    if not shares:
        return []
    left = float(np.median(shares[: max(1, len(shares) // 2)]))
    return [
        s >= cfg.red_share or (s >= cfg.red_ink_share and s >= cfg.red_over_left * left + 0.01) for s in shares
    ]


def _longest_run(on: np.ndarray) -> tuple[int, int] | None:
    best, start = None, None
    for i, v in enumerate(list(on) + [False]):
        if v and start is None:
            start = i
        elif not v and start is not None:
            if best is None or i - start > best[1] - best[0]:
                best = (start, i)
            start = None
    return best


def find_point(window_bgr: np.ndarray, centres: list[float]) -> int | None:
    """Index of the digit a decimal point follows, given the digits' centres along a deskewed strip.

    The point is a small, solid blob at the digits' baseline, between two digit centres; a
    seven-segment digit's own bars are longer than it in one direction, so they do not pass for one.
    Dark digits are tried first (most LCDs), then light ones.
    """
    if len(centres) < 2:
        return None
    gray = cv2.createCLAHE(clipLimit=2.0, tileGridSize=(2, 8)).apply(cv2.cvtColor(window_bgr, cv2.COLOR_BGR2GRAY))
    for op in (cv2.MORPH_BLACKHAT, cv2.MORPH_TOPHAT):
        found = _point_in(gray, centres, op)
        if found is not None:
            return found
    return None


def _point_in(gray: np.ndarray, centres: list[float], op: int) -> int | None:
    H, W = gray.shape
    x_lo, x_hi = int(max(0, centres[0])), int(min(W, centres[-1] + 1))
    hat = cv2.morphologyEx(gray, op, cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (_odd(H / 4), _odd(H / 4))))
    t, _ = cv2.threshold(hat[:, x_lo:x_hi], 0, 255, cv2.THRESH_BINARY + cv2.THRESH_OTSU)
    # no closing here: it would glue the point to the digit beside it
    _, ink = cv2.threshold(hat, max(t, 14), 255, cv2.THRESH_BINARY)
    # the window's edges run right under the digits on many LCDs: drop lines longer than a digit is wide
    pitch = float(np.median(np.diff(centres)))
    lines = cv2.morphologyEx(ink, cv2.MORPH_OPEN, cv2.getStructuringElement(cv2.MORPH_RECT, (_odd(1.6 * pitch), 1)))
    ink = cv2.subtract(ink, cv2.dilate(lines, np.ones((3, 1), np.uint8)))
    rows = (ink[:, x_lo:x_hi] > 0).sum(axis=1).astype(np.float32)
    if rows.max() <= 0:
        return None
    band = _longest_run(rows > 0.1 * rows.max())
    if band is None:
        return None
    y0, y1 = band
    dig_h = float(y1 - y0)
    if dig_h < 0.3 * H:
        return None
    _, _, stats, _ = cv2.connectedComponentsWithStats(ink, connectivity=8)
    best = None
    for x, y, w, h, area in stats[1:]:
        if not (0.04 * dig_h <= w <= 0.25 * dig_h and 0.04 * dig_h <= h <= 0.25 * dig_h):
            continue
        if area < 0.5 * w * h or abs((y + h) - y1) > 0.15 * dig_h:
            continue
        cx = x + w / 2
        for i in range(len(centres) - 1):
            a, b = centres[i], centres[i + 1]
            # between the two digits' middles (an italic digit's foot leans left, towards its point)
            if a + 0.15 * (b - a) <= cx <= b - 0.1 * (b - a):
                if best is None or area > best[1]:
                    best = (i, area)
    return None if best is None else best[0]
