"""Split a deskewed digit row into digit cells; find the red (fractional) drums and a decimal point."""
from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

from .types import DigitBox, Segmentation


@dataclass(frozen=True)
class SegmentConfig:
    min_height: float = 0.25  # a digit's height as a share of the strip height
    max_height: float = 0.98
    red_share: float = 0.25  # share of red pixels that makes a drum red


@dataclass(frozen=True)
class _Comp:
    x0: int
    y0: int
    x1: int
    y1: int

    @property
    def w(self) -> int:
        return self.x1 - self.x0

    @property
    def h(self) -> int:
        return self.y1 - self.y0

    @property
    def cx(self) -> float:
        return (self.x0 + self.x1) / 2


def _odd(v: float) -> int:
    v = max(3, int(v))
    return v if v % 2 else v + 1


def _split_wide(mask: np.ndarray, x: int, y: int, w: int, h: int) -> list[tuple[int, int, int, int]]:
    """Split a blob of several glyphs joined by a thin line (a frame edge, a scratch) at empty columns."""
    sub = mask[y : y + h, x : x + w] > 0
    cols = sub.sum(axis=0)
    filled = cols > max(2, 0.12 * h)
    out, start = [], None
    for i, f in enumerate(list(filled) + [False]):
        if f and start is None:
            start = i
        elif not f and start is not None:
            rows = np.flatnonzero(sub[:, start:i].any(axis=1))
            if len(rows):
                out.append((x + start, y + int(rows[0]), i - start, int(rows[-1] - rows[0] + 1)))
            start = None
    return out


def _components(ink: np.ndarray, cfg: SegmentConfig) -> list[_Comp]:
    H = ink.shape[0]
    n, _, stats, _ = cv2.connectedComponentsWithStats(ink, connectivity=8)
    pieces = []
    for x, y, w, h, area in stats[1:]:
        if w > 1.2 * h and h >= cfg.min_height * H:
            pieces.extend(_split_wide(ink, int(x), int(y), int(w), int(h)))
        else:
            pieces.append((int(x), int(y), int(w), int(h)))
    comps = []
    for x, y, w, h in pieces:
        area = int((ink[y : y + h, x : x + w] > 0).sum())
        if cfg.min_height * H <= h <= cfg.max_height * H and w <= 1.0 * h and area >= 0.08 * w * h:
            if x <= 0 and w < 0.3 * h or x + w >= ink.shape[1] and w < 0.3 * h:
                continue  # a sliver of the window frame
            comps.append(_Comp(int(x), int(y), int(x + w), int(y + h)))
    comps.sort(key=lambda c: c.x0)
    merged: list[_Comp] = []
    for c in comps:
        if merged:
            p = merged[-1]
            overlap = min(p.x1, c.x1) - max(p.x0, c.x0)
            if overlap > 0.5 * min(p.w, c.w):
                merged[-1] = _Comp(min(p.x0, c.x0), min(p.y0, c.y0), max(p.x1, c.x1), max(p.y1, c.y1))
                continue
        merged.append(c)
    return merged


def ink_masks(gray: np.ndarray) -> dict[str, np.ndarray]:
    """Binary masks of glyph ink for dark-on-light and light-on-dark digits, seven-segment bars joined.

    A black-hat (top-hat) keeps strokes thinner than a quarter of the strip and drops large dark (light)
    areas such as an LCD's frame or the black band of a drum counter, which a plain threshold would take.
    """
    H = gray.shape[0]
    k = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (_odd(H / 4), _odd(H / 4)))
    out = {}
    for polarity, op in (("dark", cv2.MORPH_BLACKHAT), ("light", cv2.MORPH_TOPHAT)):
        hat = cv2.morphologyEx(gray, op, k)
        t, _ = cv2.threshold(hat, 0, 255, cv2.THRESH_BINARY + cv2.THRESH_OTSU)
        _, ink = cv2.threshold(hat, max(t, 14), 255, cv2.THRESH_BINARY)
        ink = cv2.morphologyEx(ink, cv2.MORPH_OPEN, np.ones((2, 2), np.uint8))
        # window frames and drum borders: lines longer than any digit, which would glue the digits together
        h_lines = cv2.morphologyEx(ink, cv2.MORPH_OPEN, cv2.getStructuringElement(cv2.MORPH_RECT, (_odd(H * 0.55), 1)))
        v_lines = cv2.morphologyEx(ink, cv2.MORPH_OPEN, cv2.getStructuringElement(cv2.MORPH_RECT, (1, _odd(H * 0.93))))
        ink = cv2.subtract(ink, cv2.dilate(cv2.bitwise_or(h_lines, v_lines), np.ones((3, 3), np.uint8)))
        ink = cv2.morphologyEx(ink, cv2.MORPH_CLOSE, cv2.getStructuringElement(cv2.MORPH_RECT, (3, _odd(H / 10))))
        out[polarity] = ink
    return out


def _red_mask(bgr: np.ndarray) -> np.ndarray:
    hsv = cv2.cvtColor(bgr, cv2.COLOR_BGR2HSV)
    h, s, v = hsv[..., 0], hsv[..., 1], hsv[..., 2]
    return ((h <= 10) | (h >= 165)) & (s >= 110) & (v >= 60)


def is_red(window_bgr: np.ndarray, x0: int, y0: int, x1: int, y1: int, cfg: SegmentConfig = SegmentConfig()) -> bool:
    """A red drum (or a red frame around it): the mark of a fractional digit."""
    H, W = window_bgr.shape[:2]
    region = _red_mask(window_bgr[max(0, y0) : min(H, y1), max(0, x0) : min(W, x1)])
    return region.size > 0 and float(region.mean()) >= cfg.red_share


def decimal_point(window_bgr: np.ndarray, boxes: list[DigitBox], polarity: str) -> int | None:
    """Index of the digit after which a point or comma stands, for digits of the given polarity."""
    gray = cv2.createCLAHE(clipLimit=2.0, tileGridSize=(2, 8)).apply(cv2.cvtColor(window_bgr, cv2.COLOR_BGR2GRAY))
    return _decimal_point(ink_masks(gray)[polarity], boxes)


def _decimal_point(ink: np.ndarray, boxes: list[DigitBox]) -> int | None:
    """Index of the digit a point or comma follows: a small square blob near the baseline in a gap."""
    if len(boxes) < 2:
        return None
    dig_h = float(np.median([b.y1 - b.y0 for b in boxes]))
    base = float(np.median([b.y1 for b in boxes]))
    n, _, stats, _ = cv2.connectedComponentsWithStats(ink, connectivity=8)
    best = None
    for x, y, w, h, area in stats[1:]:
        if not (0.05 * dig_h <= w <= 0.3 * dig_h and 0.05 * dig_h <= h <= 0.45 * dig_h):
            continue
        if area < 0.4 * w * h or y + h < base - 0.3 * dig_h or y > base + 0.25 * dig_h:
            continue
        cx = x + w / 2
        for i in range(len(boxes) - 1):
            a, b = boxes[i], boxes[i + 1]
            if a.x1 - 0.35 * (a.x1 - a.x0) <= cx <= b.x0 + 0.2 * (b.x1 - b.x0):
                if best is None or area > best[1]:
                    best = (i, area)
    return None if best is None else best[0]


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


def _runs(on: np.ndarray) -> list[tuple[int, int]]:
    out, start = [], None
    for i, v in enumerate(list(on) + [False]):
        if v and start is None:
            start = i
        elif not v and start is not None:
            out.append((start, i))
            start = None
    return out


def _column_runs(ink: np.ndarray, cfg: SegmentConfig) -> list[_Comp]:
    """Glyphs as runs of inked columns through the middle of the digit band.

    Looking only at the band's middle skips what touches the digits from above or below (frame remnants,
    a decimal point, scratches), which would glue the glyphs together as connected components.
    """
    H = ink.shape[0]
    rows = np.convolve((ink > 0).sum(axis=1).astype(np.float32), np.ones(3) / 3, mode="same")
    if rows.max() <= 0:
        return []
    band = _longest_run(rows > 0.25 * rows.max())
    if band is None or band[1] - band[0] < cfg.min_height * H:
        return []
    ya, yb = band
    bh = yb - ya
    core = ink[ya + bh // 5 : yb - bh // 5] > 0
    runs = _runs(core.sum(axis=0) >= 1)
    merged: list[list[int]] = []
    for x0, x1 in runs:
        if merged and x0 - merged[-1][1] <= max(1, 0.04 * bh):
            merged[-1][1] = x1
        else:
            merged.append([x0, x1])
    lo, hi = max(0, ya - bh // 6), min(H, yb + bh // 6)
    widths = [x1 - x0 for x0, x1 in merged if 0.3 * bh <= x1 - x0 <= 0.9 * bh]
    typical = float(np.median(widths)) if widths else 0.55 * bh
    comps = []
    for x0, x1 in merged:
        w = x1 - x0
        k = int(round(w / typical)) if w > 1.45 * typical else 1
        for j in range(k):
            a, b = x0 + w * j // k, x0 + w * (j + 1) // k
            ys = np.flatnonzero((ink[lo:hi, a:b] > 0).any(axis=1))
            if len(ys) == 0:
                continue
            c = _Comp(a, lo + int(ys[0]), b, lo + int(ys[-1]) + 1)
            at_edge = c.x0 <= 1 or c.x1 >= ink.shape[1] - 1
            if at_edge and c.w < 0.3 * bh:
                continue  # the window's frame
            if c.h >= 0.6 * bh and (c.w >= 0.08 * bh or c.h >= 0.8 * bh):
                comps.append(c)
    return comps


def segment(window_bgr: np.ndarray, polarity: str = "dark", cfg: SegmentConfig = SegmentConfig()) -> Segmentation:
    """Digit cells of a deskewed strip for digits darker ("dark") or lighter ("light") than their ground,
    left to right, with gaps on the pitch grid filled in.

    Cells are proposals: a filled gap or a cell at either end may be empty, which the classifier decides;
    so is the polarity, by trying both.
    """
    gray = cv2.cvtColor(window_bgr, cv2.COLOR_BGR2GRAY)
    gray = cv2.createCLAHE(clipLimit=2.0, tileGridSize=(2, 8)).apply(gray)
    H, W = gray.shape
    masks = ink_masks(gray)
    pol = polarity or "dark"
    comps = _column_runs(masks[pol], cfg)
    if len(comps) < 2:
        comps = _components(masks[pol], cfg)
    if not comps:
        return Segmentation(boxes=(), notes=("no digit-sized glyphs in the window",))
    heights = np.array([c.h for c in comps], np.float32)
    med_h = float(np.median(heights))
    # the digits are the largest group of equal height (taller when tied); the rest are frame edges,
    # units, points and specks
    support = [(sum(abs(h2 - h1) <= 0.2 * h1 for h2 in heights), h1) for h1 in heights]
    _, typical = max(support)
    comps = [c for c in comps if abs(c.h - typical) <= 0.25 * typical]
    med_h = float(np.median([c.h for c in comps]))
    widths = np.array([c.w for c in comps], np.float32)
    cell_w = float(np.median(widths[widths >= 0.45 * widths.max()]))
    cell_w = max(cell_w, 0.45 * med_h)
    centres = np.array([c.cx for c in comps], np.float32)
    diffs = np.diff(centres)
    # the pitch is the spacing of neighbouring digits; larger steps are gaps (an unread or rolling digit)
    pitch = float(np.percentile(diffs, 30)) if len(diffs) else cell_w * 1.25
    pitch = max(pitch, cell_w * 1.02)
    y0 = int(np.median([c.y0 for c in comps]))
    y1 = int(np.median([c.y1 for c in comps]))
    pad_y = 0.08 * (y1 - y0)
    by0, by1 = max(0, int(y0 - pad_y)), min(H, int(y1 + pad_y))
    half = cell_w * 0.58
    spans: list[tuple[int, int]] = []
    for i, c in enumerate(comps):
        if i:
            gap = c.cx - comps[i - 1].cx
            k = int(round(gap / pitch))
            if gap > 1.6 * pitch:
                for j in range(1, k):
                    cx = comps[i - 1].cx + gap / k * j
                    spans.append((int(round(cx - half)), int(round(cx + half))))
        if c.w >= 0.6 * cell_w:
            grow = 0.08 * c.w
            spans.append((int(round(c.x0 - grow)), int(round(c.x1 + grow))))
        else:  # a narrow "1": a cell of the usual width around it
            spans.append((int(round(c.cx - half)), int(round(c.cx + half))))
    boxes = [DigitBox(bx0, by0, bx1, by1, red=is_red(window_bgr, bx0, by0, bx1, by1, cfg)) for bx0, bx1 in spans]
    point = _decimal_point(masks[pol], boxes)
    return Segmentation(boxes=tuple(boxes), point_after=point, notes=(f"polarity={pol}", f"pitch={pitch:.1f}"))


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
