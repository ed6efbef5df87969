"""Photo quality checks: pure functions with a stated range, and one report with actionable messages.

Each measure takes a grayscale ``uint8`` (or float in 0..255) array and returns a number with a fixed
meaning, like scikit-image's ``blur_effect``. :func:`assess_quality` turns the numbers into
:class:`~pipeline.types.QualityReport` checks using the thresholds of :class:`QualityConfig`.
"""
from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

from .types import QualityCheck, QualityReport

MESSAGES = {
    "blur": "The photo is blurred: hold the phone steady and tap to focus.",
    "glare": "A reflection covers the display: tilt the phone or turn off the flash.",
    "dark": "The photo is too dark: add light or turn on the flash.",
    "small_digits": "The digits are too small: move closer so the counter fills more of the frame.",
}


@dataclass(frozen=True)
class QualityConfig:
    # blur_score above which the window (or, when no window is known, the whole photo) is too blurred to
    # read; sharp real photos score 0.6-0.88, a Gaussian blur of sigma 2-3 px pushes them past these
    blur_max_window: float = 0.90
    blur_max_image: float = 0.92
    # share of saturated pixels allowed on the digit window, and on the whole photo when no window is known
    glare_max_window: float = 0.08
    # (a white meter face over-exposes too, so without the window only a washed-out photo is flagged)
    glare_max_image: float = 0.70
    # grey level counted as a saturated (specular) pixel
    glare_level: int = 250
    # darkness above which the photo is too dark (0.80: the 90th-percentile grey level is below 51)
    dark_max: float = 0.80
    # the digit window must be at least this many pixels high in the image given to assess_quality
    min_window_height_px: float = 18.0
    # regions are resized before measuring blur so the score is relative to the digit size, not the photo size
    blur_window_height_px: int = 48
    blur_image_long_side_px: int = 800


def _gray(image: np.ndarray) -> np.ndarray:
    if image.ndim == 3:
        image = cv2.cvtColor(image, cv2.COLOR_BGR2GRAY)
    return image


def blur_score(gray: np.ndarray, h_size: int = 11) -> float:
    """Crete blur effect: 0 for a sharp image, 1 for a fully blurred one.

    Compares the gradients of the image with those of a re-blurred copy (uniform filter of ``h_size``
    along each axis): a sharp image loses much by re-blurring, a blurred one loses little. Returns the
    worse of the two axes. Images smaller than ``h_size`` pixels give 1.0.
    """
    g = _gray(gray).astype(np.float32)
    if min(g.shape[:2]) < max(h_size, 5):
        return 1.0
    scores = []
    for axis in (0, 1):
        ksize = (1, h_size) if axis == 1 else (h_size, 1)
        reblurred = cv2.blur(g, ksize, borderType=cv2.BORDER_REFLECT)
        dx, dy = (1, 0) if axis == 1 else (0, 1)
        sharp = np.abs(cv2.Sobel(g, cv2.CV_32F, dx, dy, ksize=3))[2:-1, 2:-1]
        blurred = np.abs(cv2.Sobel(reblurred, cv2.CV_32F, dx, dy, ksize=3))[2:-1, 2:-1]
        m1 = float(sharp.sum())
        if m1 <= 1e-6:  # a flat image has no edges to judge: call it blurred
            scores.append(1.0)
            continue
        m2 = float(np.maximum(0.0, sharp - blurred).sum())
        scores.append(abs(m1 - m2) / m1)
    return float(min(1.0, max(scores)))


def glare_fraction(gray: np.ndarray, level: int = 250, blob_px: int = 3, mask: np.ndarray | None = None) -> float:
    """Share of saturated (specular) pixels, 0..1.

    A pixel counts when its grey level is at least ``level`` and it lies in a saturated blob at least
    ``blob_px`` wide (a morphological opening drops specks and strokes thinner than that, such as
    over-exposed white digits). With ``mask``, the share is of the pixels inside the mask.
    """
    g = _gray(gray)
    if g.size == 0:
        return 0.0
    sat = (g >= level).astype(np.uint8)
    k = max(1, min(int(blob_px), *sat.shape[:2]))
    if k > 1:
        sat = cv2.morphologyEx(sat, cv2.MORPH_OPEN, np.ones((k, k), np.uint8))
    if mask is not None:
        return float(sat[mask.astype(bool)].mean()) if mask.any() else 0.0
    return float(sat.mean())


def darkness(gray: np.ndarray) -> float:
    """How dark the photo is, 0 (its bright parts are white) to 1 (black).

    ``1 - p90 / 255`` where p90 is the 90th-percentile grey level: a well-lit photo of a black meter
    still has bright parts (the digits, the face), an under-exposed one has none.
    """
    g = _gray(gray)
    if g.size == 0:
        return 1.0
    return float(1.0 - percentile_u8(g, 90) / 255.0)


def percentile_u8(g: np.ndarray, q: float) -> float:
    """``np.percentile(g, q)`` of 8-bit pixels, to the last bit, from their histogram: a third of the time of
    numpy's selection over a whole photo. The same linear interpolation between the two order statistics
    around ``(n - 1) * q / 100``, in the same arithmetic."""
    if g.dtype != np.uint8:
        return float(np.percentile(g, q))
    n = g.size
    vi = (n - 1) * (q / 100)
    lo = int(np.floor(vi))
    hi = min(lo + 1, n - 1)
    t = vi - lo
    if n < 1 << 24:  # calcHist counts in float32: exact below 2**24 pixels, and ten times numpy's bincount
        hist = cv2.calcHist([np.ascontiguousarray(g)], [0], None, [256], [0, 256]).ravel().astype(np.int64)
    else:
        hist = np.bincount(g.ravel(), minlength=256)
    cum = np.cumsum(hist)
    a = int(np.searchsorted(cum, lo, side="right"))  # the value of the lo-th smallest pixel
    b = int(np.searchsorted(cum, hi, side="right"))
    d = b - a
    return float(b - d * (1 - t)) if t >= 0.5 else float(a + d * t)


def digit_height_ok(window_height_px: float, min_px: float = QualityConfig.min_window_height_px) -> bool:
    """True when a digit window this many pixels high is large enough to read its digits."""
    return bool(window_height_px >= min_px)


def _quad_height(quad: np.ndarray) -> float:
    tl, tr, br, bl = quad
    return float((np.linalg.norm(bl - tl) + np.linalg.norm(br - tr)) / 2)


def _window_region(gray: np.ndarray, quad: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The bounding box of the quad, and a mask of the quad inside it."""
    h, w = gray.shape[:2]
    x0, y0 = np.floor(quad.min(axis=0)).astype(int)
    x1, y1 = np.ceil(quad.max(axis=0)).astype(int)
    x0, y0, x1, y1 = max(0, x0), max(0, y0), min(w, x1), min(h, y1)
    region = gray[y0:y1, x0:x1]
    mask = np.zeros(region.shape[:2], np.uint8)
    if region.size:
        cv2.fillConvexPoly(mask, np.round(quad - [x0, y0]).astype(np.int32), 1)
    return region, mask.astype(bool)


def _resize_to(gray: np.ndarray, *, height: int | None = None, long_side: int | None = None) -> np.ndarray:
    h, w = gray.shape[:2]
    f = height / h if height else long_side / max(h, w)
    if abs(f - 1) < 1e-3 or h == 0 or w == 0:
        return gray
    interp = cv2.INTER_AREA if f < 1 else cv2.INTER_LINEAR
    return cv2.resize(gray, (max(1, round(w * f)), max(1, round(h * f))), interpolation=interp)


def _check(name: str, value: float, ok: bool) -> QualityCheck:
    return QualityCheck(name=name, value=round(float(value), 4), ok=bool(ok), message=None if ok else MESSAGES[name])


def assess_quality(
    image_bgr: np.ndarray, window_quad: np.ndarray | None = None, config: QualityConfig = QualityConfig()
) -> QualityReport:
    """Blur, glare, darkness and (when the window is known) digit size of one photo.

    ``window_quad`` (tl, tr, br, bl) is in ``image_bgr`` pixels; when given, blur and glare are measured
    on the window, where they matter, and the window height is checked.
    """
    gray = _gray(image_bgr)
    checks = []
    if window_quad is not None:
        quad = np.asarray(window_quad, np.float32).reshape(4, 2)
        region, mask = _window_region(gray, quad)
        height = _quad_height(quad)
        if region.size == 0 or not mask.any():
            region, mask = gray, np.ones(gray.shape[:2], bool)
        blur = blur_score(_resize_to(region, height=config.blur_window_height_px))
        # blobs thinner than a quarter of the window height are digit strokes or the frame, not a reflection
        glare = glare_fraction(region, config.glare_level, blob_px=max(3, round(height * 0.25)), mask=mask)
        checks.append(_check("blur", blur, blur <= config.blur_max_window))
        checks.append(_check("glare", glare, glare <= config.glare_max_window))
    else:
        blur = blur_score(_resize_to(gray, long_side=config.blur_image_long_side_px))
        glare = glare_fraction(gray, config.glare_level, blob_px=max(3, round(max(gray.shape[:2]) * 0.01)))
        checks.append(_check("blur", blur, blur <= config.blur_max_image))
        checks.append(_check("glare", glare, glare <= config.glare_max_image))
    dark = darkness(gray)
    checks.append(_check("dark", dark, dark <= config.dark_max))
    if window_quad is not None:
        checks.append(_check("small_digits", height, digit_height_ok(height, config.min_window_height_px)))
    return QualityReport(checks=tuple(checks))

