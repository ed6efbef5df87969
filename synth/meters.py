"""Render synthetic meter photos with exact labels, deterministic by seed.

A meter face (light or dark plastic, round or rectangular) carries a digit window (a drum counter or a
seven-segment LCD) and printed clutter (serial numbers, units, model, year: digits too). The flat face is
warped into a photo (perspective, rotation, scale) over a cluttered background, then photographed badly:
uneven light, glare, blur, noise, and JPEG compression when saved. The label gives the reading as the
meter displays it (leading zeros kept, "." before the fractional digits, "A+B" for two registers) and
the window corners in photo pixels.

Digits are drawn with OpenCV's Hershey fonts and our own seven-segment polygons, so no font package is
needed; TrueType fonts found on the machine (DejaVu, Liberation) are used as extra digit styles. The same
seed gives the same photo on the same machine (and the same fonts installed).
"""
from __future__ import annotations

import csv
import glob
import hashlib
import json
import os
from dataclasses import asdict, dataclass, field
from pathlib import Path

import cv2
import numpy as np

TTF_CANDIDATES = (
    "DejaVuSans-Bold.ttf",
    "DejaVuSansCondensed-Bold.ttf",
    "DejaVuSansMono-Bold.ttf",
    "DejaVuSans.ttf",
    "LiberationSans-Bold.ttf",
    "LiberationSansNarrow-Bold.ttf",
    "LiberationMono-Bold.ttf",
)
HERSHEY = (cv2.FONT_HERSHEY_SIMPLEX, cv2.FONT_HERSHEY_DUPLEX, cv2.FONT_HERSHEY_TRIPLEX, cv2.FONT_HERSHEY_COMPLEX)

# seven-segment digits: which of a b c d e f g are lit
SEGMENTS = {
    "0": "abcdef", "1": "bc", "2": "abged", "3": "abgcd", "4": "fgbc",
    "5": "afgcd", "6": "afgedc", "7": "abc", "8": "abcdefg", "9": "abcdfg",
}


@dataclass(frozen=True)
class RenderConfig:
    """What the renderer may draw; probabilities are per photo."""

    width: int = 800
    height: int = 600
    portrait_p: float = 0.25  # swap width and height
    lcd_p: float = 0.35
    dual_register_p: float = 0.08  # two drum counters (day/night electricity)
    digits: tuple[int, int] = (4, 8)
    max_fractional: int = 3
    rolling_p: float = 0.2  # the last drum caught between two digits
    glare_p: float = 0.3
    blur_p: float = 0.5
    max_rotation_deg: float = 20.0
    jpeg_quality: tuple[int, int] = (55, 95)
    use_ttf_fonts: bool = True
    # large printed words and brand names (LITRES, GERRIDA), up to a fifth of the face wide: text that is
    # not the reading and is as big as it. 0 draws none and leaves every seed's photo as it was
    big_words_p: float = 0.0
    # Harder variety for the window detector, each 0 by default (no random draw is made for an option at 0,
    # so every seed renders as before):
    # drums in cells whose dark edges, separators and top/bottom bars touch the (taller) digits, light drums
    # with red digits for the fraction, so a threshold joins digits and cell edges into one ladder
    ladder_drums_p: float = 0.0
    # white-on-dark drum band inside a wide light frame with a thin dark outline (older electricity meters)
    band_window_p: float = 0.0
    # the meter small in the photo (0.4 to 0.75 of its usual size), often inside a housing with a
    # glass cover, so the window is a few percent of the photo
    small_meter_p: float = 0.0
    # the face turned out of the photo plane (15-45 degrees about a tilted axis): strong perspective
    tilt3d_p: float = 0.0
    # a textured scene behind the meter: wood grain, foliage and sky, tiles, pipes
    scene_bg_p: float = 0.0
    # face decoration: coloured diagonal stripes, barcode, a small dial, a thick coloured rim on round faces
    face_decor_p: float = 0.0


@dataclass(frozen=True)
class MeterLabel:
    reading: str  # "00414.676"; "A+B" for two registers
    kind: str  # "drum" | "lcd"
    meter_kind: str  # water | gas | electricity_drum | electricity_lcd | electricity_drum_dual_register
    window: tuple[tuple[float, float], ...]  # tl, tr, br, bl of the (first) digit window, photo pixels
    digits: int  # digits of the (first) register
    fractional: int  # of which after the point / on red drums
    registers: tuple[dict, ...] = ()  # {"reading", "window", "digits", "fractional"} per register
    rolling: bool = False  # the last drum shows two digits; the label is the one more visible
    red_fraction: bool = False
    jpeg_quality: int = 85
    size: tuple[int, int] = (0, 0)  # photo width, height

    @property
    def bbox(self) -> tuple[int, int, int, int]:
        """x, y, w, h of the (first) window, as in labels.csv."""
        q = np.asarray(self.window)
        x0, y0 = np.floor(q.min(axis=0)).astype(int)
        x1, y1 = np.ceil(q.max(axis=0)).astype(int)
        return int(x0), int(y0), int(x1 - x0), int(y1 - y0)

    @property
    def source(self) -> str:
        return f"synthetic-{self.kind}"


# ----------------------------------------------------------------------------------------------- text


def _ttf_fonts() -> tuple[str, ...]:
    found = []
    for name in TTF_CANDIDATES:
        hits = sorted(glob.glob(f"/usr/share/fonts/**/{name}", recursive=True))
        if hits:
            found.append(hits[0])
    return tuple(found)


def _text_mask(text: str, font, height_px: int, thickness_ratio: float = 0.1) -> np.ndarray:
    """A tight uint8 mask of ``text`` whose digit height is ``height_px``; ``font`` is a Hershey id or a TTF path."""
    height_px = max(4, int(round(height_px)))
    if isinstance(font, str):
        from PIL import Image, ImageDraw, ImageFont

        big = 96
        f = ImageFont.truetype(font, big)
        l, t, r, b = f.getbbox(text)
        im = Image.new("L", (r - l + 8, b - t + 8), 0)
        ImageDraw.Draw(im).text((4 - l, 4 - t), text, font=f, fill=255)
        mask = np.asarray(im)
        # scale so the height of a digit (not of descenders or superscripts) is height_px
        _, dt, _, db = f.getbbox("0")
        ref = db - dt
    else:
        scale = 3.0
        thick = max(1, int(round(scale * 30 * thickness_ratio)))
        (tw, th), base = cv2.getTextSize(text, font, scale, thick)
        mask = np.zeros((th + base + 2 * thick + 8, tw + 2 * thick + 8), np.uint8)
        cv2.putText(mask, text, (thick + 4, th + thick + 4), font, scale, 255, thick, cv2.LINE_AA)
        ref = cv2.getTextSize("0", font, scale, thick)[0][1] + thick
    ys, xs = np.nonzero(mask > 20)
    if len(xs) == 0:
        return np.zeros((height_px, 1), np.uint8)
    mask = mask[ys.min() : ys.max() + 1, xs.min() : xs.max() + 1]
    f = height_px / max(ref, 1)
    return cv2.resize(mask, (max(1, round(mask.shape[1] * f)), max(1, round(mask.shape[0] * f))), interpolation=cv2.INTER_AREA)


def _paste(canvas: np.ndarray, mask: np.ndarray, x: int, y: int, color) -> None:
    """Alpha-blend ``color`` through ``mask`` at top-left (x, y), clipped to the canvas."""
    h, w = mask.shape[:2]
    H, W = canvas.shape[:2]
    x0, y0, x1, y1 = max(0, x), max(0, y), min(W, x + w), min(H, y + h)
    if x0 >= x1 or y0 >= y1:
        return
    a = mask[y0 - y : y1 - y, x0 - x : x1 - x].astype(np.float32)[..., None] / 255.0
    region = canvas[y0:y1, x0:x1, :3].astype(np.float32)
    canvas[y0:y1, x0:x1, :3] = (region * (1 - a) + np.asarray(color, np.float32)[:3] * a).astype(np.uint8)


# ----------------------------------------------------------------------------------------------- readings


def _random_reading(rng: np.random.Generator, n: int, frac: int) -> str:
    integer = n - frac
    # log-uniform value: leading zeros are common, as on real meters
    value = int(10 ** rng.uniform(0, integer)) if rng.random() < 0.9 else int(rng.integers(0, 10**integer))
    s = str(min(value, 10**integer - 1)).zfill(integer)
    if frac:
        s += "." + "".join(str(d) for d in rng.integers(0, 10, frac))
    return s


# ----------------------------------------------------------------------------------------------- windows


def _draw_drums(face, rng, x0, y0, cell_w, cell_h, reading, style, font, rolling) -> None:
    """A drum counter: one cell per digit, white-on-black or black-on-white, red cells for the fraction."""
    digits = reading.replace(".", "")
    frac = len(reading.split(".")[1]) if "." in reading else 0
    dark_drums = style["dark_drums"]
    glyph_h = int(cell_h * rng.uniform(0.55, 0.72))
    ladder = style.get("ladder")
    if ladder:  # taller digits, reaching the cell's top and bottom edges
        glyph_h = int(cell_h * ladder["glyph"])
    gap = style["gap"]
    for i, d in enumerate(digits):
        red = i >= len(digits) - frac and style["red_fraction"]
        if red:
            bg, fg = (30, 30, rng.integers(170, 215)), (235, 235, 235) if rng.random() < 0.85 else (20, 20, 20)
            if ladder and ladder["red_ink"]:  # red digits on a light drum
                bg, fg = (int(rng.integers(215, 245)),) * 3, (int(rng.integers(20, 60)), int(rng.integers(20, 60)), int(rng.integers(160, 220)))
        elif dark_drums:
            bg, fg = (int(rng.integers(15, 40)),) * 3, (int(rng.integers(215, 245)),) * 3
        else:
            bg, fg = (int(rng.integers(215, 240)),) * 3, (int(rng.integers(10, 40)),) * 3
        cx = x0 + i * (cell_w + gap)
        cell = np.zeros((cell_h, cell_w, 3), np.uint8)
        cell[:] = bg
        jitter = int(rng.normal(0, cell_h * 0.025))  # drums are never perfectly aligned
        offsets = [(d, jitter)]
        if rolling and i == len(digits) - 1:
            t = rng.uniform(0.15, 0.42)  # share of the way to the next digit; the label stays d
            pitch = int(cell_h * 0.95)
            offsets = [(d, jitter - int(t * pitch)), (str((int(d) + 1) % 10), jitter - int(t * pitch) + pitch)]
        for ch, dy in offsets:
            m = _text_mask(ch, font, glyph_h, style["stroke"])
            _paste(cell, m, (cell_w - m.shape[1]) // 2, (cell_h - m.shape[0]) // 2 + dy, fg)
        # cylinder shading: darker towards the top and bottom edges of the drum
        yy = np.linspace(-1, 1, cell_h, dtype=np.float32)[:, None, None]
        cell = np.clip(cell.astype(np.float32) * (1 - 0.45 * yy**4), 0, 255).astype(np.uint8)
        if ladder:  # dark cell edges left and right, touching the digit
            e = ladder["side"]
            cell[:, :e] = ladder["ink"]
            cell[:, cell_w - e:] = ladder["ink"]
        face[y0 : y0 + cell_h, cx : cx + cell_w, :3] = cell
    if ladder:  # separators in the gaps, and the window opening's dark top and bottom edges over the drums
        w = len(digits) * (cell_w + gap) - gap
        for i in range(1, len(digits)):
            gx = x0 + i * (cell_w + gap) - gap
            face[y0 : y0 + cell_h, gx : gx + gap, :3] = ladder["ink"]
        t = ladder["bar"]
        face[y0 : y0 + t, x0 : x0 + w, :3] = ladder["ink"]
        face[y0 + cell_h - t : y0 + cell_h, x0 : x0 + w, :3] = ladder["ink"]


def _segment_polys(x, y, w, h, t, skew) -> dict[str, np.ndarray]:
    """Hexagonal segment polygons a..g of one seven-segment digit in a w x h box at (x, y)."""
    hh = h / 2
    g = t * 0.15  # gap between segments

    def hseg(cy, x0, x1):
        return [(x0 + g, cy), (x0 + t / 2 + g, cy - t / 2), (x1 - t / 2 - g, cy - t / 2), (x1 - g, cy), (x1 - t / 2 - g, cy + t / 2), (x0 + t / 2 + g, cy + t / 2)]

    def vseg(cx, y0, y1):
        return [(cx, y0 + g), (cx + t / 2, y0 + t / 2 + g), (cx + t / 2, y1 - t / 2 - g), (cx, y1 - g), (cx - t / 2, y1 - t / 2 - g), (cx - t / 2, y0 + t / 2 + g)]

    l, r = t / 2, w - t / 2
    top, mid, bot = t / 2, hh, h - t / 2
    polys = {
        "a": hseg(top, l, r), "g": hseg(mid, l, r), "d": hseg(bot, l, r),
        "f": vseg(l, top, mid), "b": vseg(r, top, mid), "e": vseg(l, mid, bot), "c": vseg(r, mid, bot),
    }
    out = {}
    for k, pts in polys.items():
        p = np.array(pts, np.float32)
        p[:, 0] += skew * (h - p[:, 1])  # italic: the top leans right
        out[k] = (p + [x, y]).astype(np.float32)
    return out


def _draw_lcd(face, rng, x0, y0, w, h, reading) -> None:
    """A seven-segment LCD: dark segments on grey-green glass, faint unlit segments, a decimal point."""
    digits = reading.replace(".", "")
    n = len(digits)
    frac = len(reading.split(".")[1]) if "." in reading else 0
    glass = np.array([rng.integers(150, 190), rng.integers(175, 205), rng.integers(160, 190)], np.float32)
    face[y0 : y0 + h, x0 : x0 + w, :3] = glass.astype(np.uint8)
    ink = np.array([rng.integers(15, 45)] * 3, np.float32)
    ghost = glass * 0.93 + ink * 0.07 if rng.random() < 0.6 else glass
    pad = int(w * 0.04)
    dh = int(h * rng.uniform(0.55, 0.72))
    pitch = (w - 2 * pad) / n
    dw = pitch * rng.uniform(0.62, 0.75)
    t = max(2.0, dh * rng.uniform(0.09, 0.13))
    skew = rng.uniform(0.0, 0.12)
    dy = y0 + (h - dh) // 2
    ss = 4  # supersample the polygons for smooth edges
    layer = np.zeros(((h) * ss, (w) * ss), np.uint8)
    ghost_layer = np.zeros_like(layer)
    for i, d in enumerate(digits):
        dx = pad + i * pitch + (pitch - dw) / 2
        polys = _segment_polys(dx, dy - y0, dw, dh, t, skew)
        for k, p in polys.items():
            target = layer if k in SEGMENTS[d] else ghost_layer
            cv2.fillPoly(target, [np.round(p * ss).astype(np.int32)], 255, cv2.LINE_AA)
        if frac and i == n - frac - 1:  # the point after the last integer digit
            cx, cy = dx + dw + (pitch - dw) / 2, dy - y0 + dh - t / 2
            cv2.circle(layer, (int(cx * ss), int(cy * ss)), int(t * 0.7 * ss), 255, -1, cv2.LINE_AA)
    region = face[y0 : y0 + h, x0 : x0 + w, :3].astype(np.float32)
    for lay, col in ((ghost_layer, ghost), (layer, ink)):
        a = cv2.resize(lay, (w, h), interpolation=cv2.INTER_AREA).astype(np.float32)[..., None] / 255
        region = region * (1 - a) + col * a
    face[y0 : y0 + h, x0 : x0 + w, :3] = region.astype(np.uint8)
    if rng.random() < 0.5:  # a unit or tariff indicator inside the glass
        m = _text_mask(str(rng.choice(["kWh", "T1", "T2", "m3"])), cv2.FONT_HERSHEY_SIMPLEX, max(5, h // 7), 0.08)
        _paste(face, m, x0 + w - m.shape[1] - pad // 2, y0 + pad // 3, ink)


# ----------------------------------------------------------------------------------------------- face


def _plan(rng: np.random.Generator, cfg: RenderConfig) -> dict:
    lcd = rng.random() < cfg.lcd_p
    dual = not lcd and rng.random() < cfg.dual_register_p
    n = int(rng.integers(cfg.digits[0], cfg.digits[1] + 1))
    if dual:
        n = int(rng.integers(5, 7))
    frac = int(rng.integers(0, min(cfg.max_fractional, n - 3) + 1))
    if dual:
        frac = 0
    if lcd:
        meter_kind = "electricity_lcd"
    elif dual:
        meter_kind = "electricity_drum_dual_register"
    else:
        meter_kind = str(rng.choice(["water", "gas", "electricity_drum"]))
    return {
        "lcd": lcd,
        "dual": dual,
        "n": n,
        "frac": frac,
        "meter_kind": meter_kind,
        "readings": [_random_reading(rng, n, frac) for _ in range(2 if dual else 1)],
        "rolling": (not lcd) and rng.random() < cfg.rolling_p,
        "big_words": int(rng.integers(1, 3)) if cfg.big_words_p and rng.random() < cfg.big_words_p else 0,
        "ladder": (not lcd) and _chance(rng, cfg.ladder_drums_p),
        "band": (not lcd) and (not dual) and _chance(rng, cfg.band_window_p),
        "small": float(rng.uniform(0.4, 0.75)) if _chance(rng, cfg.small_meter_p) else 0.0,
        "tilt3d": _chance(rng, cfg.tilt3d_p),
        "scene": _chance(rng, cfg.scene_bg_p),
        "decor": _chance(rng, cfg.face_decor_p),
    }


def _chance(rng: np.random.Generator, p: float) -> bool:
    """True with probability ``p``; draws nothing when ``p`` is 0 (the default photos stay as they were)."""
    return bool(p > 0 and rng.random() < p)


def _clutter(face, rng, fs, boxes_taken, meter_kind, light_face) -> None:
    """Printed text around the window: serial number, units, model, year; digits too."""
    ink = (int(rng.integers(10, 60)),) * 3 if light_face else (int(rng.integers(190, 235)),) * 3
    unit = "kWh" if meter_kind.startswith("electricity") else "m3"
    texts = [
        f"Nr {rng.integers(10**7, 10**8)}",
        f"{rng.integers(1995, 2025)}",
        str(rng.choice(["G4 RF1", "Qn 2,5", "Q3 4", "230V 50Hz", "MID", "DN20", "1000 imp/kWh", "Typ 7B", "R160", "Cl. 2"])),
        str(rng.choice(["ACTARIS", "ELSTER", "SENSUS", "ZENNER", "ITRON", "LANDIS GYR", "ISKRA", "B-METERS"])),
        f"{rng.integers(10, 99)}.{rng.integers(100, 999)}",
        str(rng.choice(["Pmax 0.2 bar", "T 30C", "10(60)A", "3x230/400V", "PN16"])),
    ]
    rng.shuffle(texts)
    for text in texts[: int(rng.integers(3, len(texts) + 1))]:
        h = int(fs * rng.uniform(0.025, 0.05))
        m = _text_mask(text, HERSHEY[int(rng.integers(0, 2))], h, rng.uniform(0.06, 0.11))
        for _ in range(12):  # find a free spot on the face
            x = int(rng.integers(int(fs * 0.12), max(int(fs * 0.12) + 1, int(fs * 0.88) - m.shape[1])))
            y = int(rng.integers(int(fs * 0.1), int(fs * 0.9) - m.shape[0]))
            box = (x - 6, y - 6, x + m.shape[1] + 6, y + m.shape[0] + 6)
            if not any(_overlap(box, b) for b in boxes_taken) and face[y, x, 3] > 0 and face[y + m.shape[0], x + m.shape[1], 3] > 0:
                _paste(face, m, x, y, ink)
                boxes_taken.append(box)
                break
    return unit


BIG_WORDS = ("LITRES", "GERRIDA", "VALTEC", "ACTARIS", "SENSUS", "ITRON", "kWh", "m3", "ZENNER", "ELSTER",
             "EDF", "GAS", "WATER", "PULSE", "BETAR", "LANDIS")


def _big_word(face, rng, fs, boxes_taken, light_face) -> None:
    """A word as tall as the digits, in bold ink or in a colour, where the face has room for it."""
    word = str(rng.choice(BIG_WORDS))
    h = int(fs * rng.uniform(0.05, 0.11))
    m = _text_mask(word, HERSHEY[int(rng.integers(0, 3))], h, rng.uniform(0.12, 0.2))
    if rng.random() < 0.4:
        ink = (int(rng.integers(0, 80)), int(rng.integers(0, 80)), int(rng.integers(150, 240)))  # red print
    else:
        ink = (int(rng.integers(0, 50)),) * 3 if light_face else (int(rng.integers(200, 240)),) * 3
    for _ in range(12):
        x = int(rng.integers(int(fs * 0.1), max(int(fs * 0.1) + 1, int(fs * 0.9) - m.shape[1])))
        y = int(rng.integers(int(fs * 0.08), max(int(fs * 0.08) + 1, int(fs * 0.92) - m.shape[0])))
        box = (x - 6, y - 6, x + m.shape[1] + 6, y + m.shape[0] + 6)
        if (y + m.shape[0] < fs and x + m.shape[1] < fs and not any(_overlap(box, b) for b in boxes_taken)
                and face[y, x, 3] > 0 and face[y + m.shape[0], x + m.shape[1], 3] > 0):
            _paste(face, m, x, y, ink)
            boxes_taken.append(box)
            return


def _decorate(face, rng, fs, color, light_face) -> None:
    """Printed decoration under the window and the text: diagonal stripes, a barcode, a small dial, a rim."""
    inside = face[..., 3] > 0
    if rng.random() < 0.6:  # coloured diagonal stripes over a part of the face
        col = (int(rng.integers(20, 90)), int(rng.integers(20, 90)), int(rng.integers(170, 240)))
        if rng.random() < 0.35:
            col = (int(rng.integers(150, 230)), int(rng.integers(60, 140)), int(rng.integers(10, 60)))  # blue
        layer = np.zeros((fs, fs), np.uint8)
        period = int(fs * rng.uniform(0.06, 0.14))
        width = int(period * rng.uniform(0.3, 0.6))
        slope = rng.uniform(-1.2, -0.4) if rng.random() < 0.5 else rng.uniform(0.4, 1.2)
        for k in range(-3 * fs // period, 3 * fs // period):
            b = k * period
            p1, p2 = (0, int(b)), (fs, int(b + slope * fs))
            cv2.line(layer, p1, p2, 255, width, cv2.LINE_AA)
        keep = np.zeros((fs, fs), np.uint8)  # only a sector of the face
        cx, cy = int(rng.uniform(0.5, 1.0) * fs), int(rng.uniform(0.2, 0.9) * fs)
        cv2.circle(keep, (cx, cy), int(fs * rng.uniform(0.2, 0.42)), 255, -1)
        a = (np.minimum(layer, keep) * inside).astype(np.float32)[..., None] / 255
        face[..., :3] = (face[..., :3] * (1 - a) + np.asarray(col, np.float32) * a).astype(np.uint8)
    ink = (int(rng.integers(10, 60)),) * 3 if light_face else (int(rng.integers(190, 235)),) * 3
    if rng.random() < 0.5:  # a barcode with its number
        bw, bh = int(fs * rng.uniform(0.18, 0.3)), int(fs * rng.uniform(0.04, 0.08))
        x, y = int(fs * rng.uniform(0.2, 0.8 - 0.3)), int(fs * rng.uniform(0.55, 0.8))
        xx = x
        while xx < x + bw:
            t = int(rng.integers(1, 5))
            if rng.random() < 0.55:
                cv2.rectangle(face, (xx, y), (xx + t, y + bh), (*ink, 255), -1)
            xx += t + int(rng.integers(1, 4))
        m = _text_mask(str(rng.integers(10**9, 10**10)), HERSHEY[0], int(bh * 0.35), 0.08)
        _paste(face, m, x, y + bh + 4, ink)
    if rng.random() < 0.5:  # a small dial with its numbers and a red pointer
        r = int(fs * rng.uniform(0.06, 0.1))
        cx, cy = int(fs * rng.uniform(0.35, 0.75)), int(fs * rng.uniform(0.7, 0.82))
        cv2.circle(face, (cx, cy), r, (*((20, 20, 20) if rng.random() < 0.6 else (235, 235, 235)), 255), -1, cv2.LINE_AA)
        for k in range(10):
            ang = 2 * np.pi * k / 10
            m = _text_mask(str(k), HERSHEY[0], max(5, r // 4), 0.1)
            _paste(face, m, int(cx + 0.72 * r * np.sin(ang)) - m.shape[1] // 2, int(cy - 0.72 * r * np.cos(ang)) - m.shape[0] // 2, (200, 200, 200))
        ang = rng.uniform(0, 2 * np.pi)
        cv2.line(face, (cx, cy), (int(cx + 0.6 * r * np.sin(ang)), int(cy - 0.6 * r * np.cos(ang))), (30, 30, 210, 255), max(2, r // 6))
    round_face = inside[fs // 2, int(fs * 0.03)] and not inside[int(fs * 0.21), int(fs * 0.03)]
    if round_face and rng.random() < 0.6:  # a round face: a thick coloured rim
        col = [(30, 60, 220), (200, 110, 30), (60, 140, 180), (40, 40, 40)][int(rng.integers(0, 4))]
        cv2.circle(face, (fs // 2, fs // 2), int(fs * 0.47), (*col, 255), int(fs * rng.uniform(0.02, 0.05)), cv2.LINE_AA)


def _housing(rng, face: np.ndarray, registers: list, fs: int):
    """The face set into a larger housing (metal or plastic box, a glass cover): a new canvas, quads moved."""
    k = rng.uniform(0.5, 0.8)
    out = np.zeros_like(face)
    col = np.array([rng.integers(90, 210)] * 3, np.float32) + rng.normal(0, 12, 3)
    m = int(fs * rng.uniform(0.0, 0.06))
    cv2.rectangle(out, (m, m), (fs - m, fs - m), (*[int(c) for c in np.clip(col, 0, 255)], 255), -1)
    tex = cv2.resize(rng.normal(0, 10, (fs // 16, fs // 16)).astype(np.float32), (fs, fs), interpolation=cv2.INTER_CUBIC)[..., None]
    out[..., :3] = np.clip(out[..., :3].astype(np.float32) + tex, 0, 255).astype(np.uint8)
    inner = tuple(int(c * rng.uniform(0.6, 0.9)) for c in np.clip(col, 0, 255))
    g = int(fs * (1 - k) / 2 * rng.uniform(0.4, 0.8))
    cv2.rectangle(out, (g, g), (fs - g, fs - g), (*inner, 255), max(3, int(fs * 0.012)))  # the glass cover's edge
    small = cv2.resize(face, (int(fs * k), int(fs * k)), interpolation=cv2.INTER_AREA)
    ox = (fs - small.shape[1]) // 2 + int(rng.integers(-fs // 30, fs // 30 + 1))
    oy = (fs - small.shape[0]) // 2 + int(rng.integers(-fs // 30, fs // 30 + 1))
    a = small[..., 3:4].astype(np.float32) / 255
    region = out[oy : oy + small.shape[0], ox : ox + small.shape[1]].astype(np.float32)
    out[oy : oy + small.shape[0], ox : ox + small.shape[1], :3] = (region[..., :3] * (1 - a) + small[..., :3] * a).astype(np.uint8)
    for r in registers:
        r["quad"] = (r["quad"] * k + np.array([ox, oy], np.float32)).astype(np.float32)
    return out


def _overlap(a, b) -> bool:
    return not (a[2] <= b[0] or b[2] <= a[0] or a[3] <= b[1] or b[3] <= a[1])


def _render_face(rng: np.random.Generator, plan: dict, fs: int = 1000):
    """The flat meter face (BGRA, fs x fs) and the window quads in face pixels."""
    face = np.zeros((fs, fs, 4), np.uint8)
    light = rng.random() < 0.7
    base = rng.integers(200, 245, 3) if light else rng.integers(20, 70, 3)
    if light and rng.random() < 0.3:
        base = np.array([rng.integers(170, 210), rng.integers(200, 235), rng.integers(215, 240)])  # beige/cream
    color = tuple(int(c) for c in base)
    if rng.random() < 0.5:
        cv2.circle(face, (fs // 2, fs // 2), int(fs * 0.48), (*color, 255), -1, cv2.LINE_AA)
        rim = tuple(int(c * 0.7) for c in color)
        cv2.circle(face, (fs // 2, fs // 2), int(fs * 0.48), (*rim, 255), int(fs * 0.015), cv2.LINE_AA)
    else:
        mh = int(fs * rng.uniform(0.05, 0.2))
        cv2.rectangle(face, (int(fs * 0.02), mh), (int(fs * 0.98), fs - mh), (*color, 255), -1)
    # subtle plastic texture
    tex = rng.normal(0, 3, (fs // 8, fs // 8)).astype(np.float32)
    tex = cv2.resize(tex, (fs, fs), interpolation=cv2.INTER_CUBIC)[..., None]
    face[..., :3] = np.clip(face[..., :3].astype(np.float32) + tex, 0, 255).astype(np.uint8)

    n = plan["n"]
    lcd = plan["lcd"]
    registers = []
    n_regs = 2 if plan["dual"] else 1
    win_w = int(fs * rng.uniform(0.5, 0.74))
    boxes = []
    fonts = plan["fonts"]
    font = fonts[int(rng.integers(0, len(fonts)))]
    style = {
        "dark_drums": rng.random() < 0.7,
        "red_fraction": rng.random() < 0.85,
        "gap": int(rng.integers(1, 5)),
        "stroke": rng.uniform(0.07, 0.13),
    }
    if plan.get("decor"):
        _decorate(face, rng, fs, color, light)
    if plan.get("ladder"):
        style["dark_drums"] = rng.random() < 0.25
        style["gap"] = int(rng.integers(2, 9))
        style["stroke"] = rng.uniform(0.1, 0.16)
        style["ladder"] = {"glyph": rng.uniform(0.76, 0.95), "red_ink": rng.random() < 0.7, "ink": (int(rng.integers(10, 60)),) * 3,
                           "side_share": rng.uniform(0.0, 0.12), "bar_share": rng.uniform(0.03, 0.12)}
    if plan.get("band"):
        style["dark_drums"] = True
        style["gap"] = int(rng.integers(0, 3))
        win_w = int(fs * rng.uniform(0.3, 0.5))
    for r in range(n_regs):
        reading = plan["readings"][r]
        if lcd:
            w = win_w
            h = int(w / n * rng.uniform(1.1, 1.6))
        else:
            gap = style["gap"]
            cell_w = int((win_w - 2 * 8 - (n - 1) * gap) / n)
            cell_h = int(cell_w * rng.uniform(1.3, 1.75))
            w = n * cell_w + (n - 1) * gap
            h = cell_h
            if "ladder" in style:
                lad = style["ladder"]
                lad["side"], lad["bar"] = int(cell_w * lad["side_share"]), max(2, int(cell_h * lad["bar_share"]))
        x0 = (fs - w) // 2 + int(rng.integers(-fs // 20, fs // 20 + 1))
        if n_regs == 1:
            y0 = int(fs * rng.uniform(0.3, 0.45))
        else:
            y0 = int(fs * (0.28 + r * 0.24))
        # frame around the window
        frame = int(max(6, h * rng.uniform(0.08, 0.2)))
        fcol = (int(rng.integers(10, 60)),) * 3 if rng.random() < 0.6 else tuple(int(c * 0.8) for c in color)
        if plan.get("band"):  # a wide light frame with a thin dark outline, light space right of the digits
            frame = int(h * rng.uniform(0.25, 0.7))
            extra = int(w * rng.uniform(0.0, 1.0))
            fcol = (int(rng.integers(190, 245)),) * 3
            line = (int(rng.integers(10, 70)),) * 3
            x1 = min(fs - 4, x0 + w + frame + extra)
            cv2.rectangle(face, (x0 - frame, y0 - frame), (x1, y0 + h + frame), (*line, 255), -1)
            o = max(2, frame // 6)
            cv2.rectangle(face, (x0 - frame + o, y0 - frame + o), (x1 - o, y0 + h + frame - o), (*fcol, 255), -1)
            boxes.append((x0 - frame - 10, y0 - frame - 10, x1 + 10, y0 + h + frame + 10))
            frame = max(2, int(h * rng.uniform(0.03, 0.1)))  # the band's own dark edge
            fcol = (int(rng.integers(10, 50)),) * 3
        cv2.rectangle(face, (x0 - frame, y0 - frame), (x0 + w + frame, y0 + h + frame), (*fcol, 255), -1)
        if lcd:
            _draw_lcd(face, rng, x0, y0, w, h, reading)
        else:
            _draw_drums(face, rng, x0, y0, cell_w, cell_h, reading, style, font, plan["rolling"])
        quad = np.array([[x0, y0], [x0 + w, y0], [x0 + w, y0 + h], [x0, y0 + h]], np.float32)
        registers.append({"reading": reading, "quad": quad})
        boxes.append((x0 - frame - 25, y0 - frame - 25, x0 + w + frame + 25, y0 + h + frame + 25))
        # the unit right of (or below) the window
        ink = (20, 20, 20) if light else (225, 225, 225)
        unit = "kWh" if plan["meter_kind"].startswith("electricity") else "m3"
        m = _text_mask(unit, HERSHEY[1], max(8, int(h * 0.35)), 0.1)
        ux, uy = x0 + w + frame + 12, y0 + (h - m.shape[0]) // 2
        if ux + m.shape[1] < fs - 10:
            _paste(face, m, ux, uy, ink)
            boxes.append((ux - 4, uy - 4, ux + m.shape[1] + 4, uy + m.shape[0] + 4))
        if n_regs == 2:
            m = _text_mask(f"T{r + 1}", HERSHEY[0], max(8, int(h * 0.3)), 0.1)
            tx = x0 - frame - m.shape[1] - 10
            _paste(face, m, tx, y0 + (h - m.shape[0]) // 2, ink)
            boxes.append((tx - 4, y0, x0, y0 + h))
    _clutter(face, rng, fs, boxes, plan["meter_kind"], light)
    for _ in range(plan.get("big_words", 0)):
        _big_word(face, rng, fs, boxes, light)
    return face, registers, style


# ----------------------------------------------------------------------------------------------- photo


def _background(rng: np.random.Generator, w: int, h: int) -> np.ndarray:
    grey = rng.uniform(40, 210)
    base = np.clip(grey + rng.normal(0, 18, 3), 0, 255).astype(np.float32)  # walls and cabinets: muted colours
    gx = np.linspace(-1, 1, w, dtype=np.float32)[None, :, None]
    gy = np.linspace(-1, 1, h, dtype=np.float32)[:, None, None]
    img = base + 40 * (rng.uniform(-1, 1) * gx + rng.uniform(-1, 1) * gy)
    noise = cv2.resize(rng.normal(0, 12, (h // 16 + 1, w // 16 + 1)).astype(np.float32), (w, h), interpolation=cv2.INTER_CUBIC)
    img = img + noise[..., None]
    img = np.clip(img, 0, 255).astype(np.uint8)
    for _ in range(int(rng.integers(0, 5))):  # pipes, cables, cabinet edges
        g = rng.uniform(20, 230)
        c = tuple(int(np.clip(g + v, 0, 255)) for v in rng.normal(0, 30, 3))
        p1 = (int(rng.integers(0, w)), int(rng.integers(0, h)))
        p2 = (int(rng.integers(0, w)), int(rng.integers(0, h)))
        cv2.line(img, p1, p2, c, int(rng.integers(2, max(3, w // 15))), cv2.LINE_AA)
    return img


def _homography(rng, fs, w, h, cfg: RenderConfig, shrink: float, plan: dict | None = None) -> np.ndarray:
    plan = plan or {}
    size = min(w, h) * rng.uniform(0.75, 1.25) * shrink
    angle = np.deg2rad(np.clip(rng.normal(0, cfg.max_rotation_deg / 2.5), -cfg.max_rotation_deg, cfg.max_rotation_deg))
    c = np.array([w / 2 + rng.normal(0, w * 0.06), h / 2 + rng.normal(0, h * 0.06)])
    src = np.array([[0, 0], [fs, 0], [fs, fs], [0, fs]], np.float32)
    unit = (src / fs - 0.5) * size
    if plan.get("small"):  # a small meter anywhere in the photo
        size *= plan["small"]
        unit = (src / fs - 0.5) * size
        c = np.array([rng.uniform(size * 0.5, max(size * 0.5 + 1, w - size * 0.5)), rng.uniform(size * 0.5, max(size * 0.5 + 1, h - size * 0.5))])
    if plan.get("tilt3d"):  # turned out of the photo plane about an axis in it, seen from a finite distance
        axis = rng.uniform(0, np.pi)
        turn = np.deg2rad(rng.uniform(15, 45)) * (1 if rng.random() < 0.5 else -1)
        u = np.array([np.cos(axis), np.sin(axis), 0.0])
        K = np.array([[0, -u[2], u[1]], [u[2], 0, -u[0]], [-u[1], u[0], 0]])
        R = np.eye(3) + np.sin(turn) * K + (1 - np.cos(turn)) * K @ K
        p3 = np.c_[unit, np.zeros(4)] @ R.T
        dist = size * rng.uniform(1.2, 3.0)
        unit = p3[:, :2] * dist / (dist + p3[:, 2:3])
    rot = np.array([[np.cos(angle), -np.sin(angle)], [np.sin(angle), np.cos(angle)]])
    dst = unit @ rot.T + c
    persp = rng.normal(0, 0.05, (4, 2)) * size
    # a consistent tilt (one side nearer) plus independent corner jitter
    tilt = rng.normal(0, 0.06)
    dst = dst + persp * 0.5 + np.array([[0, tilt], [0, -tilt], [0, tilt], [0, -tilt]]) * size
    return cv2.getPerspectiveTransform(src, dst.astype(np.float32))


def _scene(rng: np.random.Generator, w: int, h: int) -> np.ndarray:
    """A textured scene: wood grain, foliage against the sky, tiles, or rough plaster; then pipes and cables."""
    kind = int(rng.integers(0, 4))
    if kind == 0:  # wood: grain along one axis, planks
        base = np.array([rng.uniform(40, 90), rng.uniform(60, 120), rng.uniform(90, 170)], np.float32)
        n = rng.normal(0, 1, (h // 2 + 1, max(2, w // 40))).astype(np.float32)
        grain = cv2.resize(n, (w, h), interpolation=cv2.INTER_CUBIC)
        fine = cv2.resize(rng.normal(0, 1, (h // 8 + 1, w // 2 + 1)).astype(np.float32), (w, h), interpolation=cv2.INTER_LINEAR)
        img = base * (1 + 0.25 * grain[..., None] + 0.1 * fine[..., None])
        if rng.random() < 0.5:
            img = img.transpose(1, 0, 2)
            img = cv2.resize(img, (w, h))
    elif kind == 1:  # foliage and sky
        sky = np.array([rng.uniform(200, 255)] * 3, np.float32)
        leaf = np.array([rng.uniform(20, 70), rng.uniform(50, 110), rng.uniform(20, 70)], np.float32)
        m = np.zeros((h, w), np.float32)
        for sc, wt in ((32, 0.5), (12, 0.3), (4, 0.2)):
            m += wt * cv2.resize(rng.normal(0, 1, (h // sc + 1, w // sc + 1)).astype(np.float32), (w, h), interpolation=cv2.INTER_CUBIC)
        a = np.clip((m - rng.uniform(-0.5, 0.3)) * 3 + 0.5, 0, 1)[..., None]
        img = sky * (1 - a) + leaf * a * (0.6 + 0.8 * np.clip(m[..., None] + 0.5, 0, 1))
    elif kind == 2:  # tiles
        base = np.array(rng.uniform(120, 240, 3), np.float32)
        img = np.ones((h, w, 3), np.float32) * base
        t = int(rng.integers(max(8, w // 12), max(9, w // 4)))
        grout = base * rng.uniform(0.5, 0.8)
        for x in range(int(rng.integers(0, t)), w, t):
            img[:, x : x + max(2, t // 20)] = grout
        for y in range(int(rng.integers(0, t)), h, t):
            img[y : y + max(2, t // 20)] = grout
    else:  # rough plaster or concrete, stained
        base = np.array(rng.uniform(60, 200, 3), np.float32)
        m = sum(wt * cv2.resize(rng.normal(0, 1, (h // sc + 1, w // sc + 1)).astype(np.float32), (w, h), interpolation=cv2.INTER_CUBIC)
                for sc, wt in ((64, 30), (8, 12), (2, 8)))
        img = base + m[..., None]
    img = np.clip(img, 0, 255).astype(np.uint8)
    for _ in range(int(rng.integers(0, 5))):  # pipes, cables, cabinet edges
        g = rng.uniform(20, 230)
        c = tuple(int(np.clip(g + v, 0, 255)) for v in rng.normal(0, 30, 3))
        p1 = (int(rng.integers(0, w)), int(rng.integers(0, h)))
        p2 = (int(rng.integers(0, w)), int(rng.integers(0, h)))
        cv2.line(img, p1, p2, c, int(rng.integers(2, max(3, w // 10))), cv2.LINE_AA)
    return img


def _glare(rng, img: np.ndarray, center) -> np.ndarray:
    h, w = img.shape[:2]
    r = min(w, h) * rng.uniform(0.03, 0.12)
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
    a = rng.uniform(0, np.pi)
    dx, dy = xx - center[0], yy - center[1]
    u = (dx * np.cos(a) + dy * np.sin(a)) / (r * rng.uniform(1.0, 2.5))
    v = (-dx * np.sin(a) + dy * np.cos(a)) / r
    blob = np.exp(-(u**2 + v**2) ** 1.5) * rng.uniform(140, 320)
    return np.clip(img.astype(np.float32) + blob[..., None], 0, 255).astype(np.uint8)


def _degrade(rng, img: np.ndarray, window: np.ndarray, cfg: RenderConfig) -> np.ndarray:
    h, w = img.shape[:2]
    f = img.astype(np.float32)
    # uneven light, exposure and contrast
    gx = np.linspace(-1, 1, w, dtype=np.float32)[None, :]
    gy = np.linspace(-1, 1, h, dtype=np.float32)[:, None]
    light = 1 + 0.25 * (rng.uniform(-1, 1) * gx + rng.uniform(-1, 1) * gy)
    vign = 1 - rng.uniform(0, 0.35) * (gx**2 + gy**2) / 2
    f = f * (light * vign)[..., None]
    gain, gamma = rng.uniform(0.6, 1.25), rng.uniform(0.75, 1.35)
    f = 255 * np.clip(f * gain / 255, 0, 1) ** gamma
    f = f * rng.uniform(0.93, 1.07, 3)  # white balance
    img = np.clip(f, 0, 255).astype(np.uint8)
    if rng.random() < cfg.glare_p:
        if rng.random() < 0.5:
            t = rng.uniform(0, 1, 2)
            center = window[0] * (1 - t[0]) * (1 - t[1]) + window[1] * t[0] * (1 - t[1]) + window[2] * t[0] * t[1] + window[3] * (1 - t[0]) * t[1]
        else:
            center = (rng.uniform(0, w), rng.uniform(0, h))
        img = _glare(rng, img, center)
    if rng.random() < cfg.blur_p:
        if rng.random() < 0.6:
            img = cv2.GaussianBlur(img, (0, 0), rng.uniform(0.5, 1.8))
        else:
            k = int(rng.integers(3, 9))
            kernel = np.zeros((k, k), np.float32)
            kernel[k // 2, :] = 1
            m = cv2.getRotationMatrix2D((k / 2 - 0.5, k / 2 - 0.5), rng.uniform(0, 180), 1)
            kernel = cv2.warpAffine(kernel, m, (k, k))
            img = cv2.filter2D(img, -1, kernel / max(kernel.sum(), 1e-6))
    sigma = rng.uniform(0, 7)
    if sigma > 0.5:
        img = np.clip(img.astype(np.float32) + rng.normal(0, sigma, img.shape), 0, 255).astype(np.uint8)
    return img


def render_no_meter(seed: int | np.random.SeedSequence, width: int = 800, height: int = 600) -> np.ndarray:
    """A photo with no meter in it (BGR uint8): a wall with pipes and cables, wood, foliage, tiles or plaster,
    sometimes under fine wavy stripes like an animal's fur. What a customer sends by mistake; nothing in it
    may be accepted as a reading."""
    rng = np.random.default_rng(seed)
    img = _scene(rng, width, height) if rng.random() < 0.7 else _background(rng, width, height)
    if rng.random() < 0.35:
        yy, xx = np.mgrid[0:height, 0:width].astype(np.float32)
        period, wave = rng.uniform(4, 10), rng.uniform(20, 60)
        stripes = (np.sin(xx / period + np.sin(yy / wave) * 3) > rng.uniform(0, 0.5)).astype(np.float32)
        img = (img * (1 - rng.uniform(0.3, 0.6) * stripes[..., None])).astype(np.uint8)
    return img


def render_meter(seed: int | np.random.SeedSequence, config: RenderConfig = RenderConfig()) -> tuple[np.ndarray, MeterLabel]:
    """One synthetic meter photo (BGR uint8, before JPEG) and its exact label. Same seed, same photo."""
    rng = np.random.default_rng(seed)
    w, h = config.width, config.height
    if rng.random() < config.portrait_p:
        w, h = h, w
    plan = _plan(rng, config)
    ttf = _ttf_fonts() if config.use_ttf_fonts else ()
    plan["fonts"] = HERSHEY[:3] + ttf
    fs = 1000
    face, registers, style = _render_face(rng, plan, fs)
    if plan["small"] and rng.random() < 0.6:
        face = _housing(rng, face, registers, fs)
    ss = 2  # warp at twice the size, then reduce: anti-aliased edges
    for attempt in range(20):
        H = _homography(rng, fs, w, h, config, shrink=0.93**attempt, plan=plan)
        quads = [cv2.perspectiveTransform(r["quad"][None], H)[0] for r in registers]
        margin = 4
        if all((q >= margin).all() and (q[:, 0] <= w - margin).all() and (q[:, 1] <= h - margin).all() for q in quads):
            break
    S = np.diag([ss, ss, 1.0])
    warped = cv2.warpPerspective(face, S @ H, (w * ss, h * ss), flags=cv2.INTER_LINEAR, borderValue=(0, 0, 0, 0))
    warped = cv2.resize(warped, (w, h), interpolation=cv2.INTER_AREA)
    bg = _scene(rng, w, h) if plan["scene"] else _background(rng, w, h)
    alpha = warped[..., 3:4].astype(np.float32) / 255
    photo = (bg * (1 - alpha) + warped[..., :3] * alpha).astype(np.uint8)
    photo = _degrade(rng, photo, quads[0], config)
    quality = int(rng.integers(config.jpeg_quality[0], config.jpeg_quality[1] + 1))
    regs = tuple(
        {
            "reading": r["reading"],
            "window": [[round(float(x), 2), round(float(y), 2)] for x, y in q],
            "digits": len(r["reading"].replace(".", "")),
            "fractional": len(r["reading"].split(".")[1]) if "." in r["reading"] else 0,
        }
        for r, q in zip(registers, quads)
    )
    label = MeterLabel(
        reading="+".join(r["reading"] for r in registers),
        kind="lcd" if plan["lcd"] else "drum",
        meter_kind=plan["meter_kind"],
        window=tuple((float(x), float(y)) for x, y in regs[0]["window"]),
        digits=regs[0]["digits"],
        fractional=regs[0]["fractional"],
        registers=regs,
        rolling=bool(plan["rolling"]),
        red_fraction=bool(not plan["lcd"] and style["red_fraction"] and regs[0]["fractional"] > 0),
        jpeg_quality=quality,
        size=(w, h),
    )
    return photo, label


def encode_jpeg(image: np.ndarray, quality: int = 85) -> bytes:
    ok, buf = cv2.imencode(".jpg", image, [cv2.IMWRITE_JPEG_QUALITY, int(quality)])
    if not ok:
        raise RuntimeError("JPEG encoding failed")
    return buf.tobytes()


def photo_seed(seed: int, index: int) -> np.random.SeedSequence:
    """The seed of photo ``index`` of a dataset rendered with ``seed`` (independent streams)."""
    return np.random.SeedSequence([int(seed), int(index)])


LABEL_FIELDS = ("file", "reading", "meter_kind", "window", "source")


def label_row(file: str, label: MeterLabel) -> dict:
    """A row in the format of shared/data/photos/labels.csv."""
    return {
        "file": file,
        "reading": label.reading,
        "meter_kind": label.meter_kind,
        "window": ",".join(str(v) for v in label.bbox),
        "source": label.source,
    }


def render_dataset(
    out_dir: str | os.PathLike,
    n: int,
    seed: int = 0,
    config: RenderConfig = RenderConfig(),
    quality: int | None = None,
    prefix: str = "synth",
    progress=None,
) -> list[dict]:
    """Render ``n`` photos into ``out_dir`` with ``labels.csv`` and ``corners.jsonl``; returns the rows.

    ``quality`` fixes the JPEG quality (else each photo draws its own from the config).
    """
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    rows = []
    with open(out / "labels.csv", "w", newline="") as lf, open(out / "corners.jsonl", "w") as cf:
        writer = csv.DictWriter(lf, fieldnames=LABEL_FIELDS)
        writer.writeheader()
        for i in range(n):
            image, label = render_meter(photo_seed(seed, i), config)
            name = f"{prefix}_{seed}_{i:05d}.jpg"
            q = quality if quality is not None else label.jpeg_quality
            data = encode_jpeg(image, q)
            (out / name).write_bytes(data)
            row = label_row(name, label)
            writer.writerow(row)
            record = {k: v for k, v in asdict(label).items() if k not in ("jpeg_quality",)}
            record.update(file=name, seed=[int(seed), i], jpeg_quality=q, sha256=hashlib.sha256(data).hexdigest())
            cf.write(json.dumps(record) + "\n")
            rows.append({**row, "kind": label.kind, "sha256": record["sha256"], "label": label})
            if progress:
                progress(i)
    return rows
