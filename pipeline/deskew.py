"""Warp a window quadrilateral to an upright rectangle."""
from __future__ import annotations

import cv2
import numpy as np

from .types import DecodedImage, Deskewed, Window


def expand_quad(quad: np.ndarray, left: float, right: float, top: float = 0.0, bottom: float = 0.0) -> np.ndarray:
    """Grow a (tl, tr, br, bl) quad along its own axes; amounts are multiples of its height."""
    tl, tr, br, bl = quad.astype(np.float32)
    u = ((tr - tl) + (br - bl)) / 2
    v = ((bl - tl) + (br - tr)) / 2
    h = float(np.linalg.norm(v))
    un = u / (np.linalg.norm(u) + 1e-6)
    vn = v / (h + 1e-6)
    return np.array(
        [tl - un * left * h - vn * top * h, tr + un * right * h - vn * top * h, br + un * right * h + vn * bottom * h, bl - un * left * h + vn * bottom * h],
        np.float32,
    )


def deskew(decoded: DecodedImage, window: Window, out_height: int = 64) -> Deskewed:
    """Perspective-rectify ``window`` (original-photo quad) from the decoded image to ``out_height`` rows."""
    q = window.quad.astype(np.float32) * decoded.scale
    tl, tr, br, bl = q
    width = (np.linalg.norm(tr - tl) + np.linalg.norm(br - bl)) / 2
    height = (np.linalg.norm(bl - tl) + np.linalg.norm(br - tr)) / 2
    out_w = max(8, int(round(out_height * width / max(height, 1.0))))
    dst = np.array([[0, 0], [out_w - 1, 0], [out_w - 1, out_height - 1], [0, out_height - 1]], np.float32)
    m_work = cv2.getPerspectiveTransform(q, dst)
    img = cv2.warpPerspective(decoded.image, m_work, (out_w, out_height), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)
    # original -> deskewed = (decoded -> deskewed) @ (original -> decoded)
    s = np.diag([decoded.scale, decoded.scale, 1.0])
    return Deskewed(image=img, homography=m_work @ s, window=window)


def to_original(deskewed: Deskewed, pts: np.ndarray) -> np.ndarray:
    """Map deskewed-window points back to original-photo pixels."""
    inv = np.linalg.inv(deskewed.homography)
    p = cv2.perspectiveTransform(np.asarray(pts, np.float32).reshape(-1, 1, 2), inv)
    return p.reshape(-1, 2)
