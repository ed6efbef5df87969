"""Synthetic and composed digit-window strips for the line reader (``models/reader.onnx``).

A strip is a deskewed digit window with some margin around it, as the pipeline cuts it from a photo,
and its label is the reading it shows: digits, with ``.`` before the fractional ones (a decimal point
on an LCD, red drums on a counter). Three families:

* seven-segment LCDs: 3 to 8 positions, blank leading positions (only "ghost" unlit segments), a decimal
  point, dark segments on grey/green or lit segments on dark, unit text beside, panel edges;
* drum counters: 4 to 8 drums in the machine's fonts (``render_digits.render_drum``), black/white
  drums then red fractional drums, rolling drums, separators, a frame and the face around;
* real digit crops placed side by side (haverland, jomjol from ``../shared/data/digits``; never shipped),
  so the reader sees real drum digits too.

Labels of rolling drums are the digit nearer the window's centre (``k`` below half a step, ``k+1`` from
half on): the reader's confidence drops near the middle, which is what sends such reads to review.

``python training/render_strips.py --n 60000 --out /work/cache/strips.npz`` caches a data set.
"""
from __future__ import annotations

import argparse
import csv
import math
import os
import sys
import time
from pathlib import Path

import cv2
import numpy as np

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))

from recognizer.reader import ALPHABET, INPUT_H, INPUT_W, to_canvas  # noqa: E402
from training.render_digits import (  # noqa: E402
    NONDIGIT_TEXT, SEGMENTS, _scheme, _seg_polys, glyph, n_fonts, render_drum,
)

UNITS = ["m3", "m³", "kWh", "kW", "W", "L", "LITRES", "Wh", "T1", "T2", "MWh", "kvarh", "GJ"]


# ------------------------------------------------------------------------------------------------ LCD
def _lcd_digit(canvas: np.ndarray, ghost: np.ndarray, segs: str, x: float, y: float, w: float, h: float,
               t: float, gap: float, shear: float, rect: bool, s: int) -> None:
    for name, p in _seg_polys(w, h, t, gap).items():
        if rect:
            x0, y0 = p.min(0)
            x1, y1 = p.max(0)
            p = np.array([[x0, y0], [x1, y0], [x1, y1], [x0, y1]])
        q = p.astype(np.float64).copy()
        q[:, 0] += shear * (h - q[:, 1]) + x
        q[:, 1] += y
        cv2.fillPoly(canvas if name in segs else ghost, [(q * s).astype(np.int32)], 255)


def render_lcd_strip(rng: np.random.Generator) -> tuple[np.ndarray, str]:
    n = int(rng.integers(3, 9))
    blanks = int(rng.integers(0, max(1, n - 1))) if rng.random() < 0.55 else 0
    digits = [int(rng.integers(10)) for _ in range(n)]
    if blanks == 0 and rng.random() < 0.4:  # meters show leading zeros
        z = int(rng.integers(0, n - 1))
        digits[:z] = [0] * z
    dp = None  # the point stands after position dp
    if rng.random() < 0.6:
        dp = n - 1 - int(rng.integers(1, min(4, n - blanks)))
        if dp < blanks:
            dp = None
    h = 40.0
    w = h * rng.uniform(0.42, 0.62)
    t = h * rng.uniform(0.08, 0.18)
    gap = rng.uniform(0, 0.25) * t
    shear = rng.uniform(0.0, 0.25) if rng.random() < 0.6 else 0.0
    pitch = w * rng.uniform(1.2, 1.6)
    rect = rng.random() < 0.25
    ghost_level = rng.uniform(0.03, 0.3) if rng.random() < 0.6 else 0.0
    mx0, mx1 = rng.uniform(0.15, 1.5, 2) * h
    my0, my1 = rng.uniform(0.1, 0.5, 2) * h
    W = int(mx0 + pitch * (n - 1) + w + shear * h + mx1)
    H = int(my0 + h + my1)
    s = 4
    lit = np.zeros((H * s, W * s), np.uint8)
    gh = np.zeros_like(lit)
    label = ""
    for i, d in enumerate(digits):
        x = mx0 + i * pitch
        if i < blanks:
            _lcd_digit(gh, gh, "", x, my0, w, h, t, gap, shear, rect, s)
        else:
            segs = SEGMENTS[d]
            if d == 7 and rng.random() < 0.3:
                segs = "abcf"
            if d == 9 and rng.random() < 0.3:
                segs = "abcfg"
            if d == 6 and rng.random() < 0.3:
                segs = "cdefg"
            _lcd_digit(lit, gh, segs, x, my0, w, h, t, gap, shear, rect, s)
            label += str(d)
        if dp is not None and i == dp:
            r = t * rng.uniform(0.45, 0.7)
            cx, cy = x + w + (pitch - w) / 2, my0 + h - r
            if rng.random() < 0.5:
                cv2.circle(lit, (int(cx * s), int(cy * s)), int(r * s), 255, -1)
            else:
                cv2.rectangle(lit, (int((cx - r) * s), int((cy - r) * s)), (int((cx + r) * s), int((cy + r) * s)), 255, -1)
            label += "."
    m = np.maximum(lit.astype(np.float32) / 255, ghost_level * gh.astype(np.float32) / 255)
    m = cv2.resize(m, (W, H), interpolation=cv2.INTER_AREA)
    r = rng.random()
    if r < 0.6:  # reflective LCD: dark segments on grey/green, sometimes barely darker than it
        bg = np.array([rng.uniform(60, 200), rng.uniform(70, 220), rng.uniform(60, 200)])
        fg = bg - rng.uniform(25, 70) if rng.random() < 0.35 else rng.uniform(5, 60) * np.ones(3)
        fg = np.clip(fg, 0, 255)
    elif r < 0.85:  # backlit / LED: lit segments on dark
        bg = rng.uniform(0, 60, 3)
        fg = np.array([rng.uniform(140, 255), rng.uniform(140, 255), rng.uniform(90, 255)])
    else:
        fg, bg = _scheme(rng)
    img = bg[None, None, :] * (1 - m[..., None]) + fg[None, None, :] * m[..., None]
    # reflections and the scene behind the glass: soft blotches
    if rng.random() < 0.5:
        blot = cv2.GaussianBlur(rng.uniform(-1, 1, (max(2, H // 8), max(2, W // 8))).astype(np.float32), (0, 0), 1)
        img = img + cv2.resize(blot, (W, H))[..., None] * rng.uniform(10, 50)
    if rng.random() < 0.5:  # the glass reflects the scene in front of it: large soft shapes of colour
        scene = np.zeros_like(img)
        for _ in range(int(rng.integers(1, 5))):
            c = rng.uniform(0, 255, 3).tolist()
            cv2.ellipse(scene, (int(rng.integers(W)), int(rng.integers(H))), (int(rng.integers(5, W // 2 + 6)), int(rng.integers(5, H + 6))),
                        float(rng.uniform(0, 180)), 0, 360, c, -1)
        scene = cv2.GaussianBlur(scene, (0, 0), H * rng.uniform(0.1, 0.4))
        a = rng.uniform(0.1, 0.45)
        img = img * (1 - a) + scene * a
    _unit_text(img, rng, mx0 + pitch * (n - 1) + w + shear * h, my0, h, fg, mx1)
    img = _panel_edges(img, rng, mx0, my0, W - mx1, my0 + h)
    return img, label


def _unit_text(img, rng, x_end, y0, h, fg, room):
    """A small unit or tariff label right of the digits ("kWh", "W", "m3"): not part of the reading."""
    if rng.random() > 0.35 or room < 0.5 * h:
        return
    txt = UNITS[int(rng.integers(len(UNITS)))]
    if any(c.isdigit() for c in txt) and rng.random() < 0.5:
        txt = txt.rstrip("0123456789³") or "W"
    scale = h * rng.uniform(0.35, 0.6) / 22.0
    thick = max(1, int(scale * 2))
    (tw, th), _ = cv2.getTextSize(txt, cv2.FONT_HERSHEY_SIMPLEX, scale, thick)
    x = int(x_end + rng.uniform(0.1, 0.4) * h)
    if x + tw > img.shape[1] - 1:
        return
    y = int(y0 + h * rng.uniform(0.5, 1.0))
    mask = np.zeros(img.shape[:2], np.uint8)
    cv2.putText(mask, txt.replace("³", "3"), (x, y), cv2.FONT_HERSHEY_SIMPLEX, scale, 255, thick, cv2.LINE_AA)
    a = mask.astype(np.float32)[..., None] / 255.0
    img[:] = img * (1 - a) + np.asarray(fg, np.float32)[None, None, :] * a


def _panel_edges(img, rng, x0, y0, x1, y1):
    """Beyond the window: the meter face or a frame on some sides."""
    H, W = img.shape[:2]
    if rng.random() < 0.5:
        return img
    face = rng.uniform(0, 255) * rng.uniform(0.85, 1.15, 3)
    mask = np.zeros((H, W), np.float32)
    lx = int(rng.uniform(0, max(1, x0 * 0.8))) if rng.random() < 0.6 else 0
    rx = int(W - rng.uniform(0, max(1, (W - x1) * 0.8))) if rng.random() < 0.6 else W
    ty = int(rng.uniform(0, max(1, y0 * 0.8))) if rng.random() < 0.5 else 0
    by = int(H - rng.uniform(0, max(1, (H - y1) * 0.8))) if rng.random() < 0.5 else H
    mask[:] = 1
    mask[ty:by, lx:rx] = 0
    out = img * (1 - mask[..., None]) + face[None, None, :] * mask[..., None]
    if rng.random() < 0.5:  # a dark rim between face and window
        c = rng.uniform(0, 80, 3).tolist()
        cv2.rectangle(out, (lx, ty), (rx - 1, by - 1), c, int(rng.integers(1, 4)))
    return out


# ----------------------------------------------------------------------------------------------- drums
def _drum_label(value: float) -> str:
    k = int(math.floor(value))
    f = value - k
    return str((k + (1 if f >= 0.5 else 0)) % 10)


CELL_SHARE = 0.3  # drum counters whose drums each sit in a window of their own (many water meters)


def render_drum_strip(rng: np.random.Generator, fonts: list[int] | None = None,
                      cell_share: float = CELL_SHARE) -> tuple[np.ndarray, str]:
    """A drum counter; ``fonts`` limits the font ids (``render_digits.ttf_fonts()`` indices, then Hershey)."""
    n = int(rng.integers(4, 9))
    frac = int(rng.choice([0, 0, 1, 2, 3, 3])) if n > 4 else int(rng.choice([0, 1]))
    frac = min(frac, n - 2)
    font_id = int(rng.choice(fonts)) if fonts else int(rng.integers(n_fonts()))
    scheme = _scheme(rng)
    fg, bg = scheme
    if rng.random() < 0.6:  # the usual meter: white on black, or black on white
        if rng.random() < 0.6:
            fg, bg = rng.uniform(190, 255) * np.ones(3), rng.uniform(0, 50) * np.ones(3)
        else:
            fg, bg = rng.uniform(0, 50) * np.ones(3), rng.uniform(180, 255) * np.ones(3)
    if frac and (bg[2] > bg[0] + 60 or fg[2] > fg[0] + 60):  # integer drums must not look red
        fg, bg = rng.uniform(190, 255) * np.ones(3), rng.uniform(0, 50) * np.ones(3)
    red_scheme = (rng.uniform(200, 255) * np.ones(3), np.array([rng.uniform(0, 50), rng.uniform(0, 50), rng.uniform(130, 230)]))
    if rng.random() < 0.3:  # red digits on white / black
        red_scheme = (np.array([rng.uniform(0, 40), rng.uniform(0, 40), rng.uniform(150, 230)]), bg)
    values = []
    lead = int(rng.integers(0, n - frac)) if rng.random() < 0.5 else 0
    for i in range(n):
        v = 0.0 if i < lead else float(rng.integers(10))
        last = i == n - 1
        if (last and rng.random() < 0.45) or (not last and rng.random() < 0.06):
            v += round(float(rng.uniform(0.05, 0.95)), 2)
        values.append(v)
    cells, label = [], ""
    for i, v in enumerate(values):
        is_frac = i >= n - frac
        sch = red_scheme if is_frac else (fg, bg)
        img, _ = render_drum(rng, v, font_id, sch)
        cells.append(img)
        if is_frac and i == n - frac:
            label += "."
        label += _drum_label(v)
    # a comma or point on the face between integer and fraction (some electricity meters)
    comma = frac > 0 and rng.random() < 0.2
    hh = min(c.shape[0] for c in cells)
    hh = max(hh, 8)
    cells = [cv2.resize(c, (c.shape[1], hh)) for c in cells]
    sep_w = int(hh * rng.uniform(0.02, 0.35))
    sep_c = rng.uniform(0, 255, 3) if rng.random() < 0.5 else bg * rng.uniform(0.2, 1.0)
    if rng.random() < cell_share:
        cells = [_drum_cell(c, rng) for c in cells]
        sep_w = int(hh * rng.uniform(0.15, 0.6))  # each drum behind its own window in the face plate
    parts = []
    for i, c in enumerate(cells):
        if i:
            sep = np.ones((hh, max(sep_w, 1), 3), np.float32) * sep_c
            if comma and i == n - frac:
                sep = np.ones((hh, max(sep_w, int(hh * 0.25)), 3), np.float32) * sep_c
                cv2.circle(sep, (sep.shape[1] // 2, int(hh * 0.85)), max(1, int(hh * 0.07)), fg.tolist(), -1)
            parts.append(sep)
        parts.append(c)
    row = np.hstack(parts)
    # the counter's frame, then the face around it
    fr = int(hh * rng.uniform(0.0, 0.25))
    frame_c = rng.uniform(0, 255, 3)
    row = cv2.copyMakeBorder(row, fr, fr, fr, fr, cv2.BORDER_CONSTANT, value=frame_c.tolist())
    my0, my1 = (rng.uniform(0.05, 0.5, 2) * hh).astype(int)
    mx0, mx1 = (rng.uniform(0.1, 1.3, 2) * hh).astype(int)
    face = rng.uniform(0, 255) * rng.uniform(0.85, 1.15, 3)
    img = cv2.copyMakeBorder(row, my0, my1, mx0, mx1, cv2.BORDER_CONSTANT, value=face.tolist())
    _unit_text(img, rng, mx0 + row.shape[1], my0 + fr, hh, 255 - face if rng.random() < 0.5 else frame_c, mx1)
    return img, label


def _drum_cell(cell: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """A drum seen through its own window: darker towards the top and bottom (the drum's curve), a thin
    frame, and the drum's edge above and below the digit."""
    h = cell.shape[0]
    y = np.linspace(-1.0, 1.0, h)[:, None, None]
    out = cell * (1.0 - rng.uniform(0.15, 0.5) * y**2)
    if rng.random() < 0.7:
        t = max(1, int(h * rng.uniform(0.02, 0.06)))
        frame = rng.uniform(0, 120) * np.ones(3)
        out[:t], out[-t:], out[:, :t], out[:, -t:] = frame, frame, frame, frame
    return out


def loose_crop(img: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """The window's proposal taller than its digits (a frame or drum cells found instead of the digits):
    bands of the face and a frame edge above and below, so that the digits fill only half the strip."""
    h = img.shape[0]
    face = rng.uniform(0, 255) * rng.uniform(0.85, 1.15, 3)
    frame = rng.uniform(0, 255, 3)
    t = max(1, int(h * rng.uniform(0.03, 0.12)))
    img = cv2.copyMakeBorder(img.astype(np.float32), t, t, 0, 0, cv2.BORDER_CONSTANT, value=frame.tolist())
    top, bottom = (rng.uniform(0.1, 0.5, 2) * h).astype(int)
    return cv2.copyMakeBorder(img, top, bottom, 0, 0, cv2.BORDER_CONSTANT, value=face.tolist())


# -------------------------------------------------------------------------------------- printed words
WORDS = ["LITRES", "LITERS", "KWH", "kWh", "UNIVERSAL", "WATER", "GAS", "ACTARIS", "ITRON", "ELSTER", "VALTEC",
         "TYPE", "CLASS", "MONO", "KILOWATT", "HOURS", "APPROVED", "ELECTRICITY", "METER", "SENSUS", "ZENNER",
         "Imp/kWh", "MADE IN", "PN16", "Qn", "Hz", "VOLTS", "AMPS", "PRICE", "TOTAL", "SALE", "EURO", "CUBIC",
         "NORMALE", "POINTE", "CREUSE", "PLEINE", "TARIF", "HC", "HP", "DN", "ABB", "LANDIS", "GYR", "SIEMENS"]
PLAIN_LETTERS = "ACEFHJKLMNPRTUVWXYacdefhkmnprtuvwxy"  # none that passes for a digit


def render_text_strip(rng: np.random.Generator) -> tuple[np.ndarray, str]:
    """Printed words of a meter face (brand, unit, "LITRES"): the reader must emit nothing for them."""
    if rng.random() < 0.7:
        txt = WORDS[int(rng.integers(len(WORDS)))]
    else:
        txt = "".join(rng.choice(list(PLAIN_LETTERS), int(rng.integers(2, 8))))
    font_id = int(rng.integers(n_fonts()))
    glyphs = [glyph(font_id, ch) if ch != " " else None for ch in txt]
    hh = max(g.shape[0] for g in glyphs if g is not None)
    space = int(hh * rng.uniform(0.05, 0.2))
    parts = []
    for g in glyphs:
        if g is None:
            parts.append(np.zeros((hh, int(hh * 0.4)), np.uint8))
            continue
        pad = hh - g.shape[0]
        parts.append(np.vstack([np.zeros((pad, g.shape[1]), np.uint8), g]))  # letters sit on the baseline
        parts.append(np.zeros((hh, space), np.uint8))
    mask = np.hstack(parts)
    my = int(hh * rng.uniform(0.1, 0.5))
    mx = int(hh * rng.uniform(0.2, 1.0))
    mask = cv2.copyMakeBorder(mask, my, my, mx, mx, cv2.BORDER_CONSTANT, value=0)
    fg, bg = _scheme(rng)
    a = mask.astype(np.float32)[..., None] / 255.0
    return bg[None, None, :] * (1 - a) + fg[None, None, :] * a, ""


def render_clutter_strip(rng: np.random.Generator) -> tuple[np.ndarray, str]:
    """What a wrong proposal holds: edges, screws, dial ticks, textures, shadows. No reading in it."""
    H = int(rng.integers(30, 70))
    W = int(H * rng.uniform(2.5, 8))
    img = np.ones((H, W, 3), np.float32) * rng.uniform(0, 255, 3)
    if rng.random() < 0.5:  # a texture: stripes, grain
        f = rng.uniform(0.05, 0.6)
        xx = np.arange(W)[None, :] * f + np.arange(H)[:, None] * f * rng.uniform(-1, 1)
        img += (np.sin(xx + rng.uniform(0, 6)) * rng.uniform(10, 60))[..., None]
    for _ in range(int(rng.integers(1, 9))):
        c = rng.uniform(0, 255, 3).tolist()
        k = rng.random()
        if k < 0.3:
            cv2.line(img, (int(rng.integers(W)), int(rng.integers(H))), (int(rng.integers(W)), int(rng.integers(H))), c,
                     int(rng.integers(1, 6)))
        elif k < 0.55:
            cv2.circle(img, (int(rng.integers(W)), int(rng.integers(H))), int(rng.integers(2, H)), c, int(rng.integers(-1, 4)) or 1)
        elif k < 0.8:
            x0, y0 = int(rng.integers(W)), int(rng.integers(H))
            cv2.rectangle(img, (x0, y0), (x0 + int(rng.integers(2, W // 2)), y0 + int(rng.integers(2, H))), c,
                          int(rng.integers(-1, 4)) or 1)
        else:  # dial ticks around an arc
            cx, cy, r = int(rng.integers(W)), int(rng.integers(-H, 2 * H)), int(rng.integers(H // 2, 2 * H))
            for a in np.linspace(0, 2 * np.pi, int(rng.integers(10, 40)), endpoint=False):
                p1 = (int(cx + r * np.cos(a)), int(cy + r * np.sin(a)))
                p2 = (int(cx + 0.85 * r * np.cos(a)), int(cy + 0.85 * r * np.sin(a)))
                cv2.line(img, p1, p2, c, 1)
    if rng.random() < 0.3:  # a few segment-like bars that spell no digit
        for _ in range(int(rng.integers(1, 4))):
            x0, y0 = int(rng.integers(W)), int(rng.integers(H))
            vertical = rng.random() < 0.5
            cv2.rectangle(img, (x0, y0), (x0 + (3 if vertical else int(H * 0.3)), y0 + (int(H * 0.3) if vertical else 3)),
                          rng.uniform(0, 80, 3).tolist(), -1)
    if rng.random() < 0.5:
        img = cv2.GaussianBlur(img, (0, 0), rng.uniform(0.5, 3))
    return img, ""


# ----------------------------------------------------------------------------------------- real crops
def load_real_crops(labels_csv: Path, sources: tuple[str, ...], max_per_source: int | None = None):
    """{source: [(bgr crop, label char)]} from a digits labels.csv; ambiguous crops (NaN) are left out."""
    out: dict[str, list] = {}
    root = labels_csv.parent
    with open(labels_csv, newline="") as f:
        rows = [r for r in csv.DictReader(f) if r["source"] in sources]
    for r in rows:
        v = r["value"].strip()
        if v.lower() == "nan" or v == "":
            continue
        try:
            val = float(v)
        except ValueError:
            continue
        lst = out.setdefault(r["source"], [])
        if max_per_source and len(lst) >= max_per_source:
            continue
        img = cv2.imread(str(root / r["file"]), cv2.IMREAD_COLOR)
        if img is None:
            continue
        lst.append((img, _drum_label(val)))
    return out


def compose_real_strip(rng: np.random.Generator, crops: list) -> tuple[np.ndarray, str]:
    n = int(rng.integers(3, 9))
    picks = [crops[int(rng.integers(len(crops)))] for _ in range(n)]
    hh = int(np.median([p[0].shape[0] for p in picks]))
    parts, label = [], ""
    gap = int(hh * rng.uniform(0.0, 0.15))
    edge = np.median(np.concatenate([p[0][:, :2].reshape(-1, 3) for p in picks]), axis=0)
    for i, (img, ch) in enumerate(picks):
        c = cv2.resize(img, (max(4, int(img.shape[1] * hh / img.shape[0])), hh)).astype(np.float32)
        if i and gap:
            parts.append(np.ones((hh, gap, 3), np.float32) * edge)
        parts.append(c)
        label += ch
    row = np.hstack(parts)
    my0, my1 = (rng.uniform(0.0, 0.3, 2) * hh).astype(int)
    mx0, mx1 = (rng.uniform(0.05, 0.8, 2) * hh).astype(int)
    border = cv2.BORDER_REPLICATE if rng.random() < 0.5 else cv2.BORDER_CONSTANT
    img = cv2.copyMakeBorder(row, my0, my1, mx0, mx1, border, value=(edge * rng.uniform(0.3, 1.2)).tolist())
    return img, label


# ---------------------------------------------------------------------------------------- augmentation
def augment_strip(img: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Photographing the window badly: perspective, rotation, light, glare, blur, noise, JPEG."""
    img = np.clip(img, 0, 255).astype(np.float32)
    H, W = img.shape[:2]
    if rng.random() < 0.7:  # residual perspective/rotation after deskewing
        d = H * 0.12
        src = np.float32([[0, 0], [W, 0], [W, H], [0, H]])
        dst = src + rng.uniform(-d, d, (4, 2)).astype(np.float32)
        M = cv2.getPerspectiveTransform(src, dst)
        img = cv2.warpPerspective(img, M, (W, H), borderMode=cv2.BORDER_REPLICATE)
    if rng.random() < 0.3:  # glare
        g = np.zeros((H, W), np.float32)
        cv2.ellipse(g, (int(rng.integers(W)), int(rng.integers(H))),
                    (int(rng.integers(2, max(3, W // 4))), int(rng.integers(2, max(3, H // 2)))),
                    float(rng.uniform(0, 180)), 0, 360, 1.0, -1)
        g = cv2.GaussianBlur(g, (0, 0), max(2.0, H * 0.15))
        img = img + g[..., None] * rng.uniform(40, 180)
    img = img * (rng.uniform(0.6, 1.3) * rng.uniform(0.85, 1.15, 3))[None, None, :] + rng.uniform(-40, 40)
    c = rng.uniform(0.45, 1.2)
    img = (img - img.mean()) * c + img.mean()
    if rng.random() < 0.4:  # uneven light
        gx = np.linspace(rng.uniform(0.5, 1.0), rng.uniform(0.5, 1.0), W)[None, :]
        gy = np.linspace(rng.uniform(0.7, 1.0), rng.uniform(0.7, 1.0), H)[:, None]
        img = img * (gx * gy)[..., None]
    img = np.clip(img, 0, 255)
    if rng.random() < 0.3:
        img = 255 * (img / 255) ** rng.uniform(0.6, 1.6)
    th = int(rng.integers(14, 64))  # the window's height in the photo
    tw = max(8, int(W * th / H * rng.uniform(0.85, 1.15)))
    img = cv2.resize(img.astype(np.float32), (tw, th), interpolation=cv2.INTER_AREA if th < H else cv2.INTER_LINEAR)
    if rng.random() < 0.5:
        img = cv2.GaussianBlur(img, (0, 0), rng.uniform(0.3, 1.5) * th / 40)
    if rng.random() < 0.6:
        img = img + rng.normal(0, rng.uniform(2, 14), img.shape)
    img = np.clip(img, 0, 255).astype(np.uint8)
    if rng.random() < 0.5:
        ok, buf = cv2.imencode(".jpg", img, [cv2.IMWRITE_JPEG_QUALITY, int(rng.integers(20, 95))])
        if ok:
            img = cv2.imdecode(buf, cv2.IMREAD_COLOR)
    if rng.random() < 0.1:
        img = 255 - img
    return img


LOOSE_SHARE = 0.2  # strips cut loosely above and below the digits

MIXES = {  # shares of: printed words, clutter, real-crop composites, drum counters (the rest: LCDs)
    "default": (0.07, 0.05, 0.23, 0.30),
    "lcd": (0.06, 0.04, 0.15, 0.20),
}


def render_strip(rng: np.random.Generator, real: dict | None = None, mix: str = "default",
                 cell_share: float = CELL_SHARE, loose_share: float = LOOSE_SHARE) -> tuple[np.ndarray, str]:
    words, clutter, composed, drums = np.cumsum(MIXES[mix])
    r = rng.random()
    if r < words:
        img, label = render_text_strip(rng)
    elif r < clutter:
        img, label = render_clutter_strip(rng)
    elif real and r < composed:
        src = list(real)[int(rng.integers(len(real)))]
        img, label = compose_real_strip(rng, real[src])
    elif r < drums:
        img, label = render_drum_strip(rng, cell_share=cell_share)
    else:
        img, label = render_lcd_strip(rng)
    if label and rng.random() < loose_share:
        img = loose_crop(img, rng)
    return augment_strip(img, rng), label


def encode_label(label: str) -> list[int]:
    return [ALPHABET.index(c) + 1 for c in label]


def _worker(args):
    n, seed, real_csv, sources, mix, cells, loose = args
    rng = np.random.default_rng(seed)
    real = load_real_crops(Path(real_csv), tuple(sources)) if real_csv else None
    X = np.zeros((n, 3, INPUT_H, INPUT_W), np.uint8)
    labels = []
    for i in range(n):
        img, lab = render_strip(rng, real, mix, cells, loose)
        X[i] = to_canvas(img)
        labels.append(lab)
    return X, labels


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--n", type=int, default=60000)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--jobs", type=int, default=2)
    ap.add_argument("--real", default=None, help="digits labels.csv for composed real strips")
    ap.add_argument("--sources", default="haverland,jomjol")
    ap.add_argument("--mix", choices=sorted(MIXES), default="default")
    ap.add_argument("--cells", type=float, default=CELL_SHARE, help="share of drum counters with a window per drum")
    ap.add_argument("--loose", type=float, default=LOOSE_SHARE, help="share of strips cut loosely above and below")
    ap.add_argument("--out", default="/work/cache/strips.npz")
    ap.add_argument("--preview", default=None, help="write a PNG montage of 24 samples here")
    a = ap.parse_args(argv)
    if a.preview:
        rng = np.random.default_rng(a.seed)
        real = load_real_crops(Path(a.real), tuple(a.sources.split(",")), 300) if a.real else None
        tiles = []
        for _ in range(24):
            img, lab = render_strip(rng, real, a.mix, a.cells, a.loose)
            c = to_canvas(img).transpose(1, 2, 0).copy()
            c = cv2.resize(c, (INPUT_W * 2, INPUT_H * 2), interpolation=cv2.INTER_NEAREST)
            bar = np.zeros((16, c.shape[1], 3), np.uint8)
            cv2.putText(bar, lab, (2, 12), cv2.FONT_HERSHEY_PLAIN, 1.0, (0, 255, 0), 1)
            tiles.append(np.vstack([bar, c]))
        cv2.imwrite(a.preview, np.vstack([np.hstack(tiles[i:i + 2]) for i in range(0, 24, 2)]))
        return
    from multiprocessing import Pool

    t0 = time.time()
    per = [a.n // a.jobs + (1 if i < a.n % a.jobs else 0) for i in range(a.jobs)]
    with Pool(a.jobs) as pool:
        parts = pool.map(_worker, [(k, a.seed * 1000 + i, a.real, a.sources.split(","), a.mix, a.cells, a.loose)
                                   for i, k in enumerate(per)])
    X = np.concatenate([p[0] for p in parts])
    labels = [lab for p in parts for lab in p[1]]
    os.makedirs(os.path.dirname(os.path.abspath(a.out)), exist_ok=True)
    np.savez(a.out, X=X, labels=np.array(labels))
    print(f"rendered {len(labels)} strips in {time.time() - t0:.1f}s -> {a.out}")


if __name__ == "__main__":
    main()
