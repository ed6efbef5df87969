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
    gap = style["gap"]
    for i, d in enumerate(digits):
        red = i >= len(digits) - frac and style["red_fraction"]
        if red:
            bg, fg = (30, 30, rng.integers(170, 215)), (235, 235, 235) if rng.random() < 0.85 else (20, 20, 20)
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
        face[y0 : y0 + cell_h, cx : cx + cell_w, :3] = cell


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
    }


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
        x0 = (fs - w) // 2 + int(rng.integers(-fs // 20, fs // 20 + 1))
        if n_regs == 1:
            y0 = int(fs * rng.uniform(0.3, 0.45))
        else:
            y0 = int(fs * (0.28 + r * 0.24))
        # frame around the window
        frame = int(max(6, h * rng.uniform(0.08, 0.2)))
        fcol = (int(rng.integers(10, 60)),) * 3 if rng.random() < 0.6 else tuple(int(c * 0.8) for c in color)
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


def _homography(rng, fs, w, h, cfg: RenderConfig, shrink: float) -> np.ndarray:
    size = min(w, h) * rng.uniform(0.75, 1.25) * shrink
    angle = np.deg2rad(np.clip(rng.normal(0, cfg.max_rotation_deg / 2.5), -cfg.max_rotation_deg, cfg.max_rotation_deg))
    c = np.array([w / 2 + rng.normal(0, w * 0.06), h / 2 + rng.normal(0, h * 0.06)])
    src = np.array([[0, 0], [fs, 0], [fs, fs], [0, fs]], np.float32)
    unit = (src / fs - 0.5) * size
    rot = np.array([[np.cos(angle), -np.sin(angle)], [np.sin(angle), np.cos(angle)]])
    dst = unit @ rot.T + c
    persp = rng.normal(0, 0.05, (4, 2)) * size
    # a consistent tilt (one side nearer) plus independent corner jitter
    tilt = rng.normal(0, 0.06)
    dst = dst + persp * 0.5 + np.array([[0, tilt], [0, -tilt], [0, tilt], [0, -tilt]]) * size
    return cv2.getPerspectiveTransform(src, dst.astype(np.float32))


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
    ss = 2  # warp at twice the size, then reduce: anti-aliased edges
    for attempt in range(20):
        H = _homography(rng, fs, w, h, config, shrink=0.93**attempt)
        quads = [cv2.perspectiveTransform(r["quad"][None], H)[0] for r in registers]
        margin = 4
        if all((q >= margin).all() and (q[:, 0] <= w - margin).all() and (q[:, 1] <= h - margin).all() for q in quads):
            break
    S = np.diag([ss, ss, 1.0])
    warped = cv2.warpPerspective(face, S @ H, (w * ss, h * ss), flags=cv2.INTER_LINEAR, borderValue=(0, 0, 0, 0))
    warped = cv2.resize(warped, (w, h), interpolation=cv2.INTER_AREA)
    bg = _background(rng, w, h)
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
