"""Locate digit windows: rows of digit-shaped blobs, found on a small copy of the photo.

The reading is a row of equal-height, evenly spaced glyphs; so are serial numbers and "LITRES". This
stage only proposes rows (with a quadrilateral in original-photo coordinates); the recognizer decides
which row is the reading by classifying its digits.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import NamedTuple

import cv2
import numpy as np

from .types import DecodedImage, Window


@dataclass(frozen=True)
class LocateConfig:
    work_long_side: int = 800  # the search runs on a copy this size; refinement happens on the crop
    min_digit_frac: float = 0.015  # digit height as a share of the image's short side
    max_digit_frac: float = 0.75
    min_row_len: int = 3
    # a pair of digit blobs is a row too, widened more: where a thin "1" or a wide gap breaks a counter's
    # row, the pair is often all that is found of it
    pair_rows: bool = True
    pair_pad: float = 2.5  # digit heights added each side of a pair (against 0.45 for longer rows)
    max_pairs: int = 4
    frame_proposals: bool = True
    frame_bands: tuple = ((0.15, 0.85), (0.3, 0.7))  # horizontal bands of the whole photo, as shares of its height
    # adaptive-threshold block sizes (shares of the short side), each for both ink polarities. Dropping
    # dark/0.18 (it gives the chosen row on 12 of 482 photos) saves a quarter of the blob search but loses
    # two readings
    block_fracs: tuple = (0.06, 0.18)
    max_proposals: int = 12


class Blob(NamedTuple):
    """A connected component's bounding box (a named tuple: thousands are made a photo, at half the cost of
    a frozen dataclass)."""

    x: int
    y: int
    w: int
    h: int

    @property
    def cx(self) -> float:
        return self.x + self.w / 2

    @property
    def cy(self) -> float:
        return self.y + self.h / 2


def _odd(v: float) -> int:
    v = int(v)
    return v + 1 if v % 2 == 0 else v


def component_stats(ink: np.ndarray, min_h: float = 0, max_h: float = float("inf")) -> np.ndarray:
    """(x, y, w, h, area) of the 8-connected components of ``ink`` whose height is in [min_h, max_h].

    Bolelli's block-based labelling into 16-bit labels: OpenCV's default (Spaghetti, 32-bit) spends twice as
    long on these speckled threshold images once it gathers statistics, and 16-bit labels are a tenth
    quicker still to write; the statistics are the same whatever the algorithm and label type. A mask of
    more than 65,535 components (noise) does not fit 16 bits: OpenCV refuses it, and 32 bits take it."""
    try:
        _, _, stats, _ = cv2.connectedComponentsWithStatsWithAlgorithm(ink, 8, cv2.CV_16U, cv2.CCL_BOLELLI)
    except cv2.error:
        _, _, stats, _ = cv2.connectedComponentsWithStatsWithAlgorithm(ink, 8, cv2.CV_32S, cv2.CCL_GRANA)
    stats = stats[1:].astype(np.int64)  # label 0 is the background
    return stats[(stats[:, 3] >= min_h) & (stats[:, 3] <= max_h)]


def _digit_blobs(ink: np.ndarray, short: int, cfg: LocateConfig) -> list[Blob]:
    lo, hi = cfg.min_digit_frac * short, cfg.max_digit_frac * short
    stats = component_stats(ink, lo, hi)
    x, y, w, h, area = (stats[:, i] for i in range(5))
    aspect = w / np.maximum(h, 1)
    fill = area / np.maximum(w * h, 1).astype(np.float64)
    keep = (h >= lo) & (h <= hi) & (aspect >= 0.08) & (aspect <= 1.1) & (fill >= 0.12) & (fill <= 0.95)
    return [Blob(int(a), int(b), int(c), int(d)) for a, b, c, d in zip(x[keep], y[keep], w[keep], h[keep])]


def _rows(blobs: list[Blob], min_len: int, max_tilt: float = 1.0) -> list[list[Blob]]:
    """Chain blobs left to right: similar height, a gap under about one digit height, centres on a line.

    The line may tilt (a phone held at an angle, a counter set into a round face) up to ``max_tilt``
    (rise over run), but each link must keep the direction of the link before it.
    """
    blobs = sorted(blobs, key=lambda b: b.x)
    # plain lists: this loop runs over every blob of eight masks a photo, and attribute lookups dominate it
    xs = [b.x for b in blobs]
    ends = [b.x + b.w for b in blobs]
    hs = [b.h for b in blobs]
    cxs = [b.x + b.w / 2 for b in blobs]
    cys = [b.y + b.h / 2 for b in blobs]
    nxt: dict[int, int] = {}
    slope_in: dict[int, float] = {}
    taken: set[int] = set()
    for i in range(len(blobs)):
        a_end, a_h, a_cx, a_cy = ends[i], hs[i], cxs[i], cys[i]
        expected = slope_in.get(i)
        best, best_gap = None, None
        for j in range(i + 1, len(blobs)):
            gap = xs[j] - a_end
            b_h = hs[j]
            hmax = a_h if a_h > b_h else b_h
            if gap > 1.3 * hmax:
                break
            if gap < -0.25 * hmax or j in taken:
                continue
            if abs(a_h - b_h) > 0.3 * hmax:
                continue
            dx = max(cxs[j] - a_cx, 1e-3)
            dy = cys[j] - a_cy
            if abs(dy / dx) > max_tilt:
                continue
            if expected is None:
                if abs(dy) > 0.3 * hmax + max_tilt * dx:
                    continue
            elif abs(dy - expected * dx) > 0.25 * hmax:
                continue
            if best_gap is None or gap < best_gap:
                best, best_gap = j, gap
        if best is not None:
            nxt[i] = best
            taken.add(best)
            slope_in[best] = (cys[best] - a_cy) / max(cxs[best] - a_cx, 1e-3)
    rows = []
    starts = [i for i in range(len(blobs)) if i not in taken]
    for s in starts:
        row, i = [blobs[s]], s
        while i in nxt:
            i = nxt[i]
            row.append(blobs[i])
        if len(row) >= min_len:
            rows.append(row)
    return rows


def _digit_pair(a: Blob, b: Blob) -> bool:
    """Two blobs that look like neighbouring digits of one counter: digit-wide, alike, close together."""
    return (
        all(0.3 <= x.w / max(x.h, 1) <= 0.9 for x in (a, b))
        and abs(a.w - b.w) <= 0.3 * max(a.w, b.w)
        and b.x - (a.x + a.w) <= 0.8 * max(a.h, b.h)
    )


def _median(values: list[int]) -> float:
    """np.median of a short list of ints, without numpy's overhead (a hundred rows a mask)."""
    v = sorted(values)
    n = len(v)
    return float(v[n // 2]) if n % 2 else (v[n // 2 - 1] + v[n // 2]) / 2


def _joined_rows(rows: list[list[Blob]], max_gap: float = 2.5) -> list[list[Blob]]:
    """Pairs of rows that continue one another: a counter whose integer and red drums sit apart (a wider
    separator, a frame between them) is found as two rows."""
    if len(rows) < 2:
        return []
    # every pair at once (row i continued by row j), in the arithmetic a loop over i did row by row
    h = np.array([_median([b.h for b in r]) for r in rows])
    x0 = np.array([r[0].x for r in rows], np.float64)
    cx0 = np.array([r[0].cx for r in rows])
    cy0 = np.array([r[0].cy for r in rows])
    n = np.array([len(r) for r in rows])
    ends = np.array([r[-1].x + r[-1].w for r in rows])
    ecx = np.array([r[-1].cx for r in rows])
    ecy = np.array([r[-1].cy for r in rows])
    slope = np.where(n >= 2, (ecy - cy0) / np.maximum(ecx - cx0, 1e-3), 0.0)
    hmax = np.maximum(h[None, :], h[:, None])
    gap = x0[None, :] - ends[:, None]
    ok = (np.abs(h[None, :] - h[:, None]) <= 0.25 * hmax) & (gap >= 0) & (gap <= max_gap * hmax)
    ok &= n[None, :] + n[:, None] <= 10
    ok &= np.abs(cy0[None, :] - (ecy[:, None] + slope[:, None] * (cx0[None, :] - ecx[:, None]))) <= 0.3 * hmax
    np.fill_diagonal(ok, False)
    return [rows[i] + rows[j] for i, j in zip(*np.nonzero(ok))]


def _row_quad(row: list[Blob], pad_x: float = 0.45, pad_y: float = 0.22) -> np.ndarray:
    """A rotated rectangle around the row, from a line through the blob centres."""
    pts = np.array([[b.cx, b.cy] for b in row], np.float32)
    if len(row) >= 3:  # two centres give too unsure a direction: a pair is taken as level
        vx, vy, _, _ = cv2.fitLine(pts, cv2.DIST_L2, 0, 0.01, 0.01).ravel()
        if vx < 0:
            vx, vy = -vx, -vy
    else:
        vx, vy = 1.0, 0.0
    u = np.array([vx, vy], np.float32)
    v = np.array([-vy, vx], np.float32)
    c = pts.mean(axis=0)
    corners = np.array(
        [[b.x, b.y] for b in row] + [[b.x + b.w, b.y + b.h] for b in row] + [[b.x + b.w, b.y] for b in row] + [[b.x, b.y + b.h] for b in row],
        np.float32,
    )
    pu, pv = (corners - c) @ u, (corners - c) @ v
    h = float(np.median([b.h for b in row]))
    u0, u1 = pu.min() - pad_x * h, pu.max() + pad_x * h
    half = h / 2 + pad_y * h
    v0, v1 = -half, half
    # keep the vertical centre on the blobs' median centre line
    return np.array([c + u * u0 + v * v0, c + u * u1 + v * v0, c + u * u1 + v * v1, c + u * u0 + v * v1], np.float32)


def _bbox(quad: np.ndarray) -> np.ndarray:
    """(x0, y0, x1, y1) of a quad's corners."""
    return np.concatenate([quad.min(axis=0), quad.max(axis=0)])


def _iou_box(a: np.ndarray, b: np.ndarray) -> float:
    """Intersection over union of two quads' bounding boxes."""
    return float(_max_iou(a, _bbox(b)[None]))


def _max_iou(quad: np.ndarray, boxes: np.ndarray) -> np.float32 | float:
    """The largest bounding-box IoU of ``quad`` with any of ``boxes`` (x0, y0, x1, y1 rows), 0 for none; in
    the quads' float32 arithmetic, as the one-pair loop it replaced computed it."""
    if not len(boxes):
        return 0.0
    ax0, ay0 = quad.min(axis=0)
    ax1, ay1 = quad.max(axis=0)
    bx0, by0, bx1, by1 = boxes.T
    iw = np.maximum(np.float32(0), np.minimum(ax1, bx1) - np.maximum(ax0, bx0))
    ih = np.maximum(np.float32(0), np.minimum(ay1, by1) - np.maximum(ay0, by0))
    inter = iw * ih
    union = (ax1 - ax0) * (ay1 - ay0) + (bx1 - bx0) * (by1 - by0) - inter
    iou = np.where(union > 0, inter / np.where(union > 0, union, np.float32(1)), np.float32(0))
    return iou.max()  # float32: compared with 0.7 in float32, as before


def _order_quad(pts: np.ndarray) -> np.ndarray:
    """(tl, tr, br, bl) from four unordered corners."""
    pts = pts.reshape(4, 2).astype(np.float32)
    s = pts.sum(axis=1)
    d = np.diff(pts, axis=1).ravel()
    return np.array([pts[np.argmin(s)], pts[np.argmin(d)], pts[np.argmax(s)], pts[np.argmax(d)]], np.float32)


def _rectangles(gray: np.ndarray) -> list[tuple[float, np.ndarray, str]]:
    """Window frames: dark or light convex quadrilaterals, wider than tall (a counter, an LCD panel)."""
    H, W = gray.shape
    area_img = float(H * W)
    out = []
    blur = cv2.GaussianBlur(gray, (5, 5), 0)
    _, otsu = cv2.threshold(blur, 0, 255, cv2.THRESH_BINARY + cv2.THRESH_OTSU)
    edges = cv2.dilate(cv2.Canny(blur, 40, 120), np.ones((3, 3), np.uint8))
    for name, mask in (("dark", 255 - otsu), ("light", otsu), ("edges", edges)):
        contours, _ = cv2.findContours(mask, cv2.RETR_LIST, cv2.CHAIN_APPROX_SIMPLE)
        for c in contours:
            a = cv2.contourArea(c)
            if a < 0.004 * area_img or a > 0.6 * area_img:
                continue
            rect = cv2.minAreaRect(c)
            (rw, rh) = rect[1]
            if min(rw, rh) < 8:
                continue
            rectangularity = a / (rw * rh)
            if rectangularity < 0.75:
                continue
            hull = cv2.convexHull(c)
            approx = cv2.approxPolyDP(hull, 0.03 * cv2.arcLength(hull, True), True)
            quad = _order_quad(approx) if len(approx) == 4 else _order_quad(cv2.boxPoints(rect))
            tl, tr, br, bl = quad
            w = (np.linalg.norm(tr - tl) + np.linalg.norm(br - bl)) / 2
            h = (np.linalg.norm(bl - tl) + np.linalg.norm(br - tr)) / 2
            if h < 8 or not (1.6 <= w / h <= 12):
                continue
            # a digit window is a clean rectangle of some size; the score only orders proposals
            out.append((rectangularity * h, quad, f"rect/{name}"))
    return out


def _search_gray(image: np.ndarray, long_side: int) -> tuple[np.ndarray, float]:
    """The grey, contrast-equalised copy of the photo the search runs on, at most ``long_side`` pixels
    long, and its scale."""
    f = min(1.0, long_side / max(image.shape[:2]))
    small = cv2.resize(image, (round(image.shape[1] * f), round(image.shape[0] * f)), interpolation=cv2.INTER_AREA) if f < 1 else image
    gray = cv2.cvtColor(small, cv2.COLOR_BGR2GRAY)
    return cv2.createCLAHE(clipLimit=2.0, tileGridSize=(8, 8)).apply(gray), f


def _segment_closing(short: int) -> np.ndarray:
    """The closing that joins the separate bars of a seven-segment digit into one blob: mostly vertically,
    a little sideways, so neighbouring digits stay apart."""
    close = max(3, short // 60)
    return cv2.getStructuringElement(cv2.MORPH_RECT, (max(3, close // 3), close))


def _row_score(row: list[Blob]) -> float:
    """Tall, even, long rows first: the median digit height, lowered by uneven heights, times the square
    root of the length (up to 8 digits)."""
    hs = np.array([b.h for b in row], np.float32)
    regular = 1.0 - float(np.std(hs) / (np.mean(hs) + 1e-6))
    return float(np.median(hs)) * regular * min(len(row), 8) ** 0.5


def propose_windows(decoded: DecodedImage, cfg: LocateConfig = LocateConfig()) -> list[Window]:
    """Candidate digit windows, largest and most regular rows first. Quads are in original pixels."""
    gray, f = _search_gray(decoded.image, cfg.work_long_side)
    short = min(gray.shape)
    closing = _segment_closing(short)
    found: list[tuple[float, np.ndarray, str]] = []  # (score, quad, source)
    pairs: list[tuple[float, np.ndarray, str]] = []
    for polarity in ("dark", "light"):
        g = gray if polarity == "dark" else 255 - gray
        for block_frac in cfg.block_fracs:
            ink = cv2.adaptiveThreshold(g, 255, cv2.ADAPTIVE_THRESH_MEAN_C, cv2.THRESH_BINARY_INV, _odd(max(11, short * block_frac)), 8)
            for close in (0, max(3, short // 60)):
                m = cv2.morphologyEx(ink, cv2.MORPH_CLOSE, closing) if close else ink
                rows = _rows(_digit_blobs(m, short, cfg), 2 if cfg.pair_rows else cfg.min_row_len)
                for row in [r for r in rows if len(r) >= cfg.min_row_len] + _joined_rows(rows):
                    # the quad is drawn only for the rows that make it into the proposals (a few of many)
                    found.append((_row_score(row), row, f"{polarity}/b{block_frac}/c{close}"))
                for a, b in (r for r in rows if len(r) == 2 and _digit_pair(*r)):
                    pairs.append((float(min(a.h, b.h)), [a, b], f"{polarity}/b{block_frac}/c{close}/pair"))
    found.sort(key=lambda t: -t[0])
    pairs.sort(key=lambda t: -t[0])
    rects = sorted(_rectangles(gray), key=lambda t: -t[0])
    kept: list[tuple[float, np.ndarray, str]] = []
    # rows, frames and pairs each have their own quota, so no kind crowds the others out of the proposals
    groups = (
        (found, cfg.max_proposals, _row_quad),
        (rects, cfg.max_proposals, lambda quad: quad),
        (pairs, cfg.max_pairs, lambda pair: _row_quad(pair, pad_x=cfg.pair_pad, pad_y=0.1)),
    )
    boxes = np.empty((0, 4), np.float32)  # kept quads' bounding boxes, for the overlap test in one go
    for group, quota, quad_of in groups:
        n = 0
        for score, shape, source in group:
            quad = quad_of(shape)
            if _max_iou(quad, boxes) < 0.7:
                kept.append((score, quad, source))
                boxes = np.vstack([boxes, _bbox(quad)[None]])
                n += 1
            if n >= quota:
                break
    if cfg.frame_proposals and float(gray.std()) >= 8.0:  # not on a blank or flat photo
        # a photo taken so close that the digits fill it: their bars break apart and no row or frame
        # holds them, but the middle of the photo, read as one strip, does
        H, W = gray.shape
        for y0, y1 in cfg.frame_bands:
            kept.append((0.0, np.float32([[0, y0 * H], [W, y0 * H], [W, y1 * H], [0, y1 * H]]), f"frame/{y0}-{y1}"))
    to_orig = 1.0 / (f * decoded.scale)
    return [Window(quad=(q * to_orig).astype(np.float32), kind="unknown", score=s, source=src) for s, q, src in kept]


def row_evidence(decoded: DecodedImage, cfg: LocateConfig = LocateConfig()) -> tuple[float, float]:
    """How strongly the photo holds rows of digits as it stands, and turned by a quarter: the best row score
    (as :func:`propose_windows` scores rows) among the digit-shaped blobs of the photo, and among those of
    the photo transposed. A photo taken sideways shows its digits lying down, wider than tall, chained top
    to bottom: rows only the transposed photo has. One threshold (the smaller block, both polarities),
    closed as :func:`propose_windows` closes it to join a seven-segment digit's bars (after transposing:
    the digits' own up and down), so it costs a few milliseconds."""
    gray, _ = _search_gray(decoded.image, cfg.work_long_side)
    short = min(gray.shape)
    kernel = _segment_closing(short)
    rows_best, pairs_best = [0.0, 0.0], [0.0, 0.0]
    for g in (gray, 255 - gray):
        ink = cv2.adaptiveThreshold(g, 255, cv2.ADAPTIVE_THRESH_MEAN_C, cv2.THRESH_BINARY_INV,
                                    _odd(max(11, short * cfg.block_fracs[0])), 8)
        for k, m in enumerate((ink, np.ascontiguousarray(ink.T))):
            m = cv2.morphologyEx(m, cv2.MORPH_CLOSE, kernel)
            for row in _rows(_digit_blobs(m, short, cfg), 2):
                best = rows_best if len(row) >= cfg.min_row_len else pairs_best
                best[k] = max(best[k], _row_score(row))
    # rows of three or more where there are any; pairs only where neither way has one (a short display
    # whose rings of segments, 0 and 8, fail the blob test): pairs are everywhere in print and texture
    best = rows_best if max(rows_best) > 0 else pairs_best
    return best[0], best[1]


@dataclass(frozen=True)
class HeatmapConfig:
    threshold: float = 0.5  # cell probability that counts as window
    min_cells: int = 4  # smaller marked areas are noise
    max_windows: int = 2  # a face has one counter, two with day and night registers
    min_aspect: float = 1.5  # a digit window is wider than tall


def windows_from_heatmap(decoded: DecodedImage, prob: np.ndarray, cells_per_px: float,
                         cfg: HeatmapConfig = HeatmapConfig()) -> list[Window]:
    """The marked areas of a window detector's heatmap as proposals: each connected area's rotated
    bounding rectangle, best first (mean probability times the square root of its area, like the rows'
    scores favour large digits). ``cells_per_px`` maps the decoded image's pixels to heatmap cells."""
    if prob.size == 0:
        return []
    marked = (prob >= cfg.threshold).astype(np.uint8)
    n, labels, stats, _ = cv2.connectedComponentsWithStats(marked, connectivity=8)
    H, W = decoded.image.shape[:2]
    out = []
    for i in range(1, n):
        if stats[i, cv2.CC_STAT_AREA] < cfg.min_cells:
            continue
        area = labels == i
        ys, xs = np.nonzero(area)
        # cell centres, plus half a cell all round: the rectangle covers the marked cells themselves
        pts = np.stack([xs, ys], axis=1).astype(np.float32) + 0.5
        corners = np.concatenate([pts + np.float32(d) for d in ((-.5, -.5), (.5, -.5), (.5, .5), (-.5, .5))])
        (cx, cy), (rw, rh), ang = cv2.minAreaRect(corners)
        if rw < rh:  # the long side is the row of digits
            rw, rh, ang = rh, rw, ang + 90
        if rh <= 0 or rw / rh < cfg.min_aspect:
            continue
        quad = _order_quad(cv2.boxPoints(((cx, cy), (rw, rh), ang))) / cells_per_px
        quad[:, 0] = np.clip(quad[:, 0], 0, W - 1)
        quad[:, 1] = np.clip(quad[:, 1], 0, H - 1)
        score = float(prob[area].mean()) * float(stats[i, cv2.CC_STAT_AREA]) ** 0.5
        out.append((score, quad))
    out.sort(key=lambda t: -t[0])
    to_orig = 1.0 / decoded.scale
    return [Window(quad=(q * to_orig).astype(np.float32), kind="unknown", score=s, source="net")
            for s, q in out[: cfg.max_windows]]
