"""Analog dials: the red pointers that carry the fractional part of many water meters (x0.1 ... x0.0001).

Each pointer is a red, elongated blob: its centroid lies near the hub, its farthest point is the tip,
so the pointer's angle is that of centroid -> tip, measured clockwise from the photo's up. A dial at
angle a shows a / 36 degrees (0 to 10).

Which dial is which (x0.1 first) is decided by the dials themselves: a dial's position between two
digits tells where the next, ten times slower, dial must point (x0.1 at 2.7 puts x0.01 near 7). The
order that agrees best is kept, and how well it agrees is the reading's confidence.
"""
from __future__ import annotations

import itertools
import math
from dataclasses import dataclass

import cv2
import numpy as np

from .types import DecodedImage


@dataclass(frozen=True)
class DialConfig:
    work_long_side: int = 800
    min_area: float = 0.0004  # pointer area as a share of the image
    max_area: float = 0.03
    min_elongation: float = 1.3  # long side / short side of the pointer's rotated box
    min_solidity: float = 0.55  # a star-shaped flow indicator is far less solid than a pointer
    max_dials: int = 5
    join_share: float = 0.012  # closing size (share of the short side) that rejoins a pointer's pieces


@dataclass(frozen=True)
class Dial:
    hub: tuple[float, float]  # original pixels
    tip: tuple[float, float]
    value: float  # 0 <= value < 10, clockwise from the face's up


@dataclass(frozen=True)
class DialReading:
    dials: tuple[Dial, ...]  # most significant first
    digits: str  # one digit per dial, "9086"
    confidence: float  # 0..1: how well each dial's position agrees with the next one

    @property
    def first(self) -> float:
        return self.dials[0].value


def _red(bgr: np.ndarray) -> np.ndarray:
    """Red, after a grey-world white balance: night shots and cheap cameras tint the whole face."""
    f = bgr.astype(np.float32)
    means = f.reshape(-1, 3).mean(axis=0) + 1e-3
    balanced = np.clip(f * (means.mean() / means), 0, 255).astype(np.uint8)
    hsv = cv2.cvtColor(balanced, cv2.COLOR_BGR2HSV)
    h, s, v = hsv[..., 0], hsv[..., 1], hsv[..., 2]
    return (((h <= 12) | (h >= 162)) & (s >= 70) & (v >= 40)).astype(np.uint8) * 255


def face_up(window_quad: np.ndarray) -> tuple[float, float]:
    """The face's up if the counter window sits level on it: square to the window's top edge. A photo taken
    at an angle turns the whole face, dials and counter alike."""
    tl, tr = np.asarray(window_quad, np.float64)[:2]
    right = (tr - tl) / (np.linalg.norm(tr - tl) + 1e-9)
    return float(right[1]), float(-right[0])


def find_dials(decoded: DecodedImage, window_quad: np.ndarray | None = None, cfg: DialConfig = DialConfig(),
               up: tuple[float, float] = (0.0, -1.0)) -> list[Dial]:
    """Red pointers outside the digit window (quad in original pixels), with their values read clockwise
    from ``up`` (a unit vector in image coordinates; the photo's up by default)."""
    img = decoded.image
    f = min(1.0, cfg.work_long_side / max(img.shape[:2]))
    small = cv2.resize(img, None, fx=f, fy=f, interpolation=cv2.INTER_AREA) if f < 1 else img
    mask = _red(small)
    to_small = f * decoded.scale
    # ``up`` is the photo's up unless told otherwise: a counter window may sit tilted on the face (it does
    # on many water meters), so its direction is only one hypothesis for the dials' zero (see face_up)
    up = np.asarray(up, np.float64)
    if window_quad is not None:
        q = np.asarray(window_quad, np.float32) * to_small
        # red drums and the window's red frame are not pointers
        centre = q.mean(axis=0)
        cv2.fillPoly(mask, [((q - centre) * 1.15 + centre).astype(np.int32)], 0)
    mask = cv2.morphologyEx(mask, cv2.MORPH_OPEN, np.ones((3, 3), np.uint8))
    # a thin pointer's tip comes apart from its hub (glare, a dark print mark across it): join them again
    k = max(3, int(round(min(mask.shape) * cfg.join_share)) | 1)
    mask = cv2.morphologyEx(mask, cv2.MORPH_CLOSE, cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (k, k)))
    area_img = float(mask.shape[0] * mask.shape[1])
    contours, _ = cv2.findContours(mask, cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_NONE)
    right = np.array([-up[1], up[0]])  # the face's "right", for clockwise angles
    dials = []
    for c in contours:
        a = cv2.contourArea(c)
        if not (cfg.min_area * area_img <= a <= cfg.max_area * area_img):
            continue
        hull_area = cv2.contourArea(cv2.convexHull(c))
        if hull_area <= 0 or a / hull_area < cfg.min_solidity:
            continue
        (_, _), (rw, rh), _ = cv2.minAreaRect(c)
        if min(rw, rh) <= 0 or max(rw, rh) / min(rw, rh) < cfg.min_elongation:
            continue
        m = cv2.moments(c)
        hub = np.array([m["m10"] / m["m00"], m["m01"] / m["m00"]])
        pts = c.reshape(-1, 2).astype(np.float64)
        tip = pts[np.argmax(((pts - hub) ** 2).sum(axis=1))]
        # the pointer's long axis (a round hub does not tilt it), turned towards the tip
        inside = np.zeros(mask.shape, np.uint8)
        cv2.drawContours(inside, [c], -1, 255, -1)
        ys, xs = np.nonzero(inside)
        cov = np.cov(np.stack([xs - hub[0], ys - hub[1]]))
        evals, evecs = np.linalg.eigh(cov)
        d = evecs[:, np.argmax(evals)]
        if d @ (tip - hub) < 0:
            d = -d
        ang = math.atan2(float(d @ right), float(d @ up)) % (2 * math.pi)  # clockwise from up
        dials.append(Dial(tuple(hub / to_small), tuple(tip / to_small), ang / (2 * math.pi) * 10 % 10))
    dials.sort(key=lambda x: -np.hypot(x.tip[0] - x.hub[0], x.tip[1] - x.hub[1]))
    return dials[: cfg.max_dials]


def _circ(a: float, b: float) -> float:
    d = abs(a - b) % 10
    return min(d, 10 - d)


def order_dials(dials: list[Dial]) -> DialReading | None:
    """The most consistent order of two or more dials, most significant first; None for fewer."""
    if len(dials) < 2:
        return None
    best = None
    for perm in itertools.permutations(dials):
        # dial k between two digits predicts dial k+1: x0.1 at 2.7 -> x0.01 near 7
        cost = sum(_circ((perm[k].value % 1) * 10, perm[k + 1].value) for k in range(len(perm) - 1))
        if best is None or cost < best[0]:
            best = (cost, perm)
    cost, perm = best
    mean_err = cost / (len(perm) - 1)  # in digit steps, 0 (perfect) to 5
    confidence = max(0.0, 1.0 - mean_err / 2.5)
    digits = []
    for k, d in enumerate(perm):
        v = d.value
        if k + 1 < len(perm):
            # near a digit boundary the slower dial is hard to read; the faster one says which side it is on
            nxt = perm[k + 1].value
            if v % 1 > 0.75 and nxt < 3:
                v = math.floor(v) + 1
            elif v % 1 < 0.25 and nxt > 7:
                v = math.floor(v) - 1 + 0.99
        digits.append(str(int(math.floor(v)) % 10))
    return DialReading(tuple(perm), "".join(digits), confidence)
