"""Synthetic digit crops rendered by the project itself (no third-party data).

Three families, each with colour and geometric augmentation:

* drum digits: a strip of consecutive digits (white-on-black, black-on-white, white-on-red, ...) in the
  fonts found on the machine (TrueType via PIL, plus OpenCV's Hershey fonts), bold/condensed/italic,
  seen through a window at a fractional offset: value ``k + f`` shows the lower part of ``k`` and the
  upper part of ``k+1`` (label in continuous tenths, e.g. 4.3);
* seven-segment LCD digits: dark segments on grey/green (or lit segments on dark, or binarised),
  thin/thick, slight italic, faint "ghost" unlit segments, optional decimal point, neighbour fragments;
* non-digits (class 10): letters, unit text (m3, kWh, ...), blank drum, segment fragments, background
  clutter, a window straddling two digits.

Augmentation: crop offsets/padding, scale, rotation +-5 deg, blur, noise, glare patches,
brightness/contrast/colour, JPEG compression.

``render_sample(rng, kind)`` returns ``(bgr_crop, target)`` where target is a length-11 soft label.
``python training/render_digits.py --n 40000 --out /work/cache/synth.npz`` caches a data set
(gray, resized to the training canvas) for ``train_digits.py``.
"""
from __future__ import annotations

import argparse
import glob
import math
import os
import sys
import time
from functools import lru_cache

import cv2
import numpy as np
from PIL import Image, ImageDraw, ImageFont

CANVAS_H, CANVAS_W = 64, 48  # the cached training canvas (training resizes to the model input after aug)
N_CLASSES = 11
NOT_DIGIT = 10

# --------------------------------------------------------------------------------------------- fonts
_FONT_DIRS = ["/usr/share/fonts", "/usr/local/share/fonts", os.path.expanduser("~/.fonts")]


@lru_cache(maxsize=1)
def ttf_fonts() -> tuple[str, ...]:
    out = []
    for d in _FONT_DIRS:
        out += glob.glob(os.path.join(d, "**", "*.ttf"), recursive=True)
        out += glob.glob(os.path.join(d, "**", "*.otf"), recursive=True)
    # fonts without digits or purely symbolic ones are skipped
    out = [f for f in sorted(set(out)) if "Math" not in f and "Symbol" not in f and "Emoji" not in f]
    return tuple(out)


HERSHEY = [cv2.FONT_HERSHEY_SIMPLEX, cv2.FONT_HERSHEY_DUPLEX, cv2.FONT_HERSHEY_COMPLEX,
           cv2.FONT_HERSHEY_TRIPLEX, cv2.FONT_HERSHEY_PLAIN, cv2.FONT_HERSHEY_COMPLEX_SMALL]
GLYPH_H = 48  # glyph masks are rendered with this cap height


def n_fonts() -> int:
    return len(ttf_fonts()) + len(HERSHEY) * 3  # hershey x 3 thicknesses


def _tight(mask: np.ndarray) -> np.ndarray:
    ys, xs = np.nonzero(mask > 20)
    if len(ys) == 0:
        return mask[:1, :1]
    return mask[ys.min():ys.max() + 1, xs.min():xs.max() + 1]


@lru_cache(maxsize=4096)
def glyph(font_id: int, ch: str) -> np.ndarray:
    """Tight uint8 mask of one character; digits scaled to height GLYPH_H, others to their natural size
    relative to the digit height of the same font."""
    fonts = ttf_fonts()
    if font_id < len(fonts):
        font = ImageFont.truetype(fonts[font_id], int(GLYPH_H * 1.4))
        size = (int(GLYPH_H * 1.4 * max(1, len(ch))) + 20, int(GLYPH_H * 2.2))
        im = Image.new("L", size, 0)
        ImageDraw.Draw(im).text((10, 10), ch, fill=255, font=font)
        m = np.array(im)
        ref = np.array(_ref_digit_height(font_id))
    else:
        k = font_id - len(fonts)
        face = HERSHEY[k % len(HERSHEY)]
        thick = [1, 2, 3][k // len(HERSHEY)]
        scale = 2.0
        m = np.zeros((int(GLYPH_H * 2.5), int(GLYPH_H * 1.6 * max(1, len(ch))) + 20), np.uint8)
        cv2.putText(m, ch, (8, int(GLYPH_H * 1.8)), face, scale, 255, thick * 2, cv2.LINE_AA)
        ref = np.array(_ref_digit_height(font_id))
    t = _tight(m)
    s = GLYPH_H / max(float(ref), 1.0)
    return cv2.resize(t, (max(1, int(round(t.shape[1] * s))), max(1, int(round(t.shape[0] * s)))),
                      interpolation=cv2.INTER_AREA)


@lru_cache(maxsize=256)
def _ref_digit_height(font_id: int) -> int:
    fonts = ttf_fonts()
    if font_id < len(fonts):
        font = ImageFont.truetype(fonts[font_id], int(GLYPH_H * 1.4))
        im = Image.new("L", (int(GLYPH_H * 2), int(GLYPH_H * 2.2)), 0)
        ImageDraw.Draw(im).text((10, 10), "0", fill=255, font=font)
        m = np.array(im)
    else:
        k = font_id - len(fonts)
        m = np.zeros((int(GLYPH_H * 2.5), int(GLYPH_H * 1.6)), np.uint8)
        cv2.putText(m, "0", (8, int(GLYPH_H * 1.8)), HERSHEY[k % len(HERSHEY)], 2.0, 255,
                    [1, 2, 3][k // len(HERSHEY)] * 2, cv2.LINE_AA)
    return _tight(m).shape[0]


# ------------------------------------------------------------------------------------------ colours
def _scheme(rng: np.random.Generator):
    """(fg, bg) BGR float colours of a drum."""
    r = rng.random()
    if r < 0.38:  # white on black/dark
        fg = rng.uniform(170, 255) * np.ones(3)
        bg = rng.uniform(0, 70) * np.ones(3)
    elif r < 0.68:  # black on white/light
        fg = rng.uniform(0, 70) * np.ones(3)
        bg = rng.uniform(160, 255) * np.ones(3)
    elif r < 0.85:  # white on red
        fg = rng.uniform(180, 255) * np.ones(3)
        bg = np.array([rng.uniform(0, 60), rng.uniform(0, 60), rng.uniform(120, 230)])
    elif r < 0.92:  # red on white / black on red-ish
        fg = np.array([rng.uniform(0, 50), rng.uniform(0, 50), rng.uniform(140, 230)])
        bg = rng.uniform(180, 255) * np.ones(3)
    else:  # random contrasting colours
        fg = rng.uniform(0, 255, 3)
        bg = rng.uniform(0, 255, 3)
        if abs(fg.mean() - bg.mean()) < 80:
            bg = 255 - fg
    tint = rng.uniform(0.85, 1.15, 3)
    return np.clip(fg * tint, 0, 255), np.clip(bg * tint, 0, 255)


def _colourise(mask: np.ndarray, fg, bg) -> np.ndarray:
    a = mask.astype(np.float32)[..., None] / 255.0
    return bg[None, None, :] * (1 - a) + fg[None, None, :] * a


# ------------------------------------------------------------------------------------------- drums
def _glyph_styled(font_id: int, ch: str, xscale: float, shear: float, bold: int) -> np.ndarray:
    g = glyph(font_id, ch)
    h, w = g.shape
    g = cv2.resize(g, (max(1, int(round(w * xscale))), h), interpolation=cv2.INTER_AREA)
    if bold:
        k = np.ones((bold * 2 + 1, bold * 2 + 1), np.uint8)
        g = cv2.dilate(cv2.copyMakeBorder(g, bold, bold, bold, bold, cv2.BORDER_CONSTANT, 0), k)
    if abs(shear) > 1e-3:
        h, w = g.shape
        pad = int(abs(shear) * h) + 2
        M = np.float32([[1, -shear, pad + (shear * h if shear > 0 else 0) - (pad if shear < 0 else 0)],
                        [0, 1, 0]])
        g = cv2.warpAffine(g, M, (w + 2 * pad, h), flags=cv2.INTER_LINEAR, borderValue=0)
        g = _tight(g)
    return g


def render_drum(rng: np.random.Generator, value: float | None = None, font_id: int | None = None,
                scheme=None, text: str | None = None) -> tuple[np.ndarray, float]:
    """A drum window showing ``value`` (k + fraction) or a ``text`` (non-digit). Returns (BGR float
    image in 0..255 before photometric augmentation, value)."""
    if font_id is None:
        font_id = int(rng.integers(n_fonts()))
    if value is None:
        value = float(rng.integers(10))
    k = int(math.floor(value)) % 10
    f = value - math.floor(value)
    xscale = rng.uniform(0.6, 1.15) if rng.random() < 0.6 else 1.0
    shear = rng.uniform(-0.12, 0.12) if rng.random() < 0.15 else 0.0
    bold = int(rng.integers(1, 4)) if rng.random() < 0.2 else 0
    gh = GLYPH_H + 2 * bold
    pitch = gh * rng.uniform(1.2, 1.75)  # distance between consecutive digits on the drum
    win_h = gh * rng.uniform(1.1, 1.45)
    if text is not None:
        chars = [text]
        glyphs = [_glyph_styled(font_id, text, xscale, shear, bold)]
        k, f = 0, 0.0
        seq = [None, 0, None]
    else:
        seq = [(k - 1) % 10, k, (k + 1) % 10, (k + 2) % 10]
        glyphs = [_glyph_styled(font_id, str(d), xscale, shear, bold) for d in seq]
    gw = max(g.shape[1] for g in glyphs if g is not None)
    win_w = max(gw * rng.uniform(1.1, 1.5), gh * 0.45)
    strip_h = int(pitch * (len(glyphs) + 1) + gh * 2)
    W = int(win_w + 4)
    strip = np.zeros((strip_h, W), np.uint8)
    centers = []
    for i, g in enumerate(glyphs):
        cy = gh + pitch * (i + 0.5)  # i-th digit centred at cy
        centers.append(cy)
        h, w = g.shape
        y0 = int(round(cy - h / 2))
        x0 = int(round(W / 2 - w / 2))
        x0c, y0c = max(x0, 0), max(y0, 0)
        x1c, y1c = min(x0 + w, W), min(y0 + h, strip_h)
        if x1c > x0c and y1c > y0c:
            strip[y0c:y1c, x0c:x1c] = np.maximum(strip[y0c:y1c, x0c:x1c],
                                                 g[y0c - y0:y1c - y0, x0c - x0:x1c - x0])
    base = centers[1] if text is None else centers[0]
    cy = base + f * pitch
    y0 = int(round(cy - win_h / 2))
    crop = strip[max(y0, 0):y0 + int(round(win_h))]
    if scheme is None:
        scheme = _scheme(rng)
    fg, bg = scheme
    img = _colourise(crop, fg, bg)
    # drum curvature shading: darker towards top and bottom
    if rng.random() < 0.6:
        yy = np.linspace(-1, 1, img.shape[0])[:, None, None]
        img = img * (1 - rng.uniform(0.1, 0.5) * yy ** 2)
    # window frame bars / neighbour separators
    if rng.random() < 0.3:
        c = rng.uniform(0, 255, 3) if rng.random() < 0.5 else bg * rng.uniform(0.2, 0.6)
        for side in (0, 1):
            if rng.random() < 0.6:
                bw = int(rng.integers(1, max(2, img.shape[1] // 8)))
                if side == 0:
                    img[:, :bw] = c
                else:
                    img[:, -bw:] = c
    return img, value


# ------------------------------------------------------------------------------------- seven-seg
#   aaa
#  f   b
#   ggg
#  e   c
#   ddd
SEGMENTS = {0: "abcdef", 1: "bc", 2: "abdeg", 3: "abcdg", 4: "bcfg", 5: "acdfg", 6: "acdefg",
            7: "abc", 8: "abcdefg", 9: "abcdfg"}


def _seg_polys(w: float, h: float, t: float, gap: float) -> dict[str, np.ndarray]:
    """Segment polygons of a digit box w x h (origin top-left), segment thickness t."""
    ht = t / 2
    m = h / 2

    def hseg(y):
        return np.array([[ht + gap, y], [t + gap, y - ht], [w - t - gap, y - ht], [w - ht - gap, y],
                         [w - t - gap, y + ht], [t + gap, y + ht]])

    def vseg(x, y0, y1):
        return np.array([[x, y0 + gap], [x + ht, y0 + ht + gap], [x + ht, y1 - ht - gap], [x, y1 - gap],
                         [x - ht, y1 - ht - gap], [x - ht, y0 + ht + gap]])

    return {"a": hseg(ht), "g": hseg(m), "d": hseg(h - ht),
            "f": vseg(ht, ht, m), "b": vseg(w - ht, ht, m),
            "e": vseg(ht, m, h - ht), "c": vseg(w - ht, m, h - ht)}


def _seg_mask(digit_segs: str, w: int, h: int, t: float, gap: float, shear: float, ghost: float,
              dp: bool, rect: bool, scale: int = 4) -> np.ndarray:
    """Float mask in 0..1 (lit=1, ghost=ghost) of a seven-segment digit with a margin around."""
    pad = int(0.5 * w) + int(abs(shear) * h) + 4
    H, W = h + 2 * pad, w + 2 * pad
    lit = np.zeros((H * scale, W * scale), np.uint8)
    gh = np.zeros_like(lit)
    polys = _seg_polys(w, h, t, gap)
    for name, p in polys.items():
        if rect:
            x0, y0 = p.min(0)
            x1, y1 = p.max(0)
            p = np.array([[x0, y0], [x1, y0], [x1, y1], [x0, y1]])
        q = p.copy()
        q[:, 0] = q[:, 0] + shear * (h - q[:, 1])  # italic: top leans right
        q = ((q + pad) * scale).astype(np.int32)
        cv2.fillPoly(lit if name in digit_segs else gh, [q], 255)
    if dp:
        r = t * 0.6
        cx, cy = w + t * 1.0 + pad, h - r + pad
        cv2.circle(lit, (int(cx * scale), int(cy * scale)), int(r * scale), 255, -1)
    m = np.maximum(lit.astype(np.float32) / 255, ghost * gh.astype(np.float32) / 255)
    m = cv2.resize(m, (W, H), interpolation=cv2.INTER_AREA)
    return m


def render_lcd(rng: np.random.Generator, digit: int | None = None, segs: str | None = None):
    """Seven-segment digit (or arbitrary segment set ``segs`` for fragments). BGR float image."""
    if segs is None:
        if digit is None:
            digit = int(rng.integers(10))
        segs = SEGMENTS[digit]
        # some displays draw 6/7/9 with or without tails
        if digit == 7 and rng.random() < 0.3:
            segs = "abcf"
        if digit == 9 and rng.random() < 0.3:
            segs = "abcfg"
        if digit == 6 and rng.random() < 0.3:
            segs = "cdefg"
    h = int(rng.integers(36, 56))
    w = int(h * rng.uniform(0.42, 0.65))
    t = h * rng.uniform(0.08, 0.2)
    gap = rng.uniform(0, 0.25) * t
    shear = rng.uniform(0, 0.18) if rng.random() < 0.6 else 0.0
    ghost = rng.uniform(0.04, 0.25) if rng.random() < 0.4 else 0.0
    dp = rng.random() < 0.25
    m = _seg_mask(segs, w, h, t, gap, shear, ghost, dp, rect=rng.random() < 0.3)
    # neighbour fragments on the sides (tight crops from a row of digits)
    if rng.random() < 0.45:
        full = np.zeros((m.shape[0], m.shape[1] * 3), np.float32)
        full[:, m.shape[1]:2 * m.shape[1]] = m
        sides = [rng.random() < 0.5] if rng.random() < 0.6 else [True, False]
        for side in sides:
            nb = _seg_mask(SEGMENTS[int(rng.integers(10))], w, h, t, gap, shear, ghost,
                           rng.random() < 0.3, False)
            sp = int(w * rng.uniform(0.15, 0.6))
            off = m.shape[1] + (w + sp if side else -(w + sp))
            o0 = max(off, 0)
            o1 = min(off + nb.shape[1], full.shape[1])
            full[:, o0:o1] = np.maximum(full[:, o0:o1], nb[:, o0 - off:o1 - off])
        m = full[:, m.shape[1]:2 * m.shape[1]]
    # window: digit box plus margin (pad in mask is 0.5*w around)
    pad = (m.shape[1] - w) // 2
    my = int(h * rng.uniform(0.05, 0.3))
    mx = int(w * rng.uniform(0.1, 0.45))
    py = (m.shape[0] - h) // 2
    m = m[max(py - my, 0):py + h + my, max(pad - mx, 0):pad + w + mx + int(shear * h)]
    r = rng.random()
    if r < 0.45:  # reflective LCD: dark segments on grey/green
        bg = np.array([rng.uniform(120, 210), rng.uniform(140, 230), rng.uniform(120, 210)])
        fg = rng.uniform(10, 70) * np.ones(3)
    elif r < 0.7:  # backlit / LED: lit segments on dark
        bg = rng.uniform(0, 50, 3)
        fg = np.array([rng.uniform(150, 255), rng.uniform(150, 255), rng.uniform(100, 255)])
    elif r < 0.85:  # binarised: white segments on black (as in thresholded crops)
        bg = np.zeros(3)
        fg = np.full(3, 255.0)
    else:  # binarised the other way round
        bg = np.full(3, 255.0)
        fg = np.zeros(3)
    return _colourise((np.clip(m, 0, 1) * 255).astype(np.uint8), fg, bg)


# ------------------------------------------------------------------------------------- non-digits
# letters that look like digits in some fonts (B D G O S Z b g l o q s z I ...) are left out
NONDIGIT_TEXT = list("ACEFHJKLMNPRTUVWXYacdefhkmnprtuvwxy#%&*+-/=<>()[]") + [
    "m3", "m³", "kWh", "kW", "Wh", "No", "Nr", "MWh", "m", "Imp", "kvarh", "V", "Hz", "L/h", "W"]


def render_non_digit(rng: np.random.Generator) -> np.ndarray:
    r = rng.random()
    if r < 0.3:  # letters / unit text through a drum-like window
        txt = NONDIGIT_TEXT[int(rng.integers(len(NONDIGIT_TEXT)))]
        img, _ = render_drum(rng, text=txt)
        return img
    if r < 0.45:  # blank drum / background patch with gradient
        h, w = int(rng.integers(30, 90)), int(rng.integers(18, 70))
        fg, bg = _scheme(rng)
        img = np.ones((h, w, 3), np.float32) * bg
        yy = np.linspace(-1, 1, h)[:, None, None]
        img = img * (1 - rng.uniform(0, 0.5) * yy ** 2)
        if rng.random() < 0.4:  # a line / edge / frame piece
            c = fg
            p1 = (int(rng.integers(w)), int(rng.integers(h)))
            p2 = (int(rng.integers(w)), int(rng.integers(h)))
            cv2.line(img, p1, p2, c.tolist(), int(rng.integers(1, 5)))
        return img
    if r < 0.6:  # seven-segment fragments (not forming a digit)
        frags = ["a", "d", "g", "ad", "ag", "dg", "adg", "f", "e", "fg", "eg", "ab", "de", "af", "cd",
                 "abfg", "cdeg", "abg", "aef", "", ""]
        return render_lcd(rng, segs=frags[int(rng.integers(len(frags)))])
    if r < 0.75:  # window straddling two digits horizontally (misplaced window)
        fid = int(rng.integers(n_fonts()))
        scheme = _scheme(rng)
        a, _ = render_drum(rng, float(rng.integers(10)), fid, scheme)
        b, _ = render_drum(rng, float(rng.integers(10)), fid, scheme)
        hh = min(a.shape[0], b.shape[0])
        both = np.hstack([a[:hh], b[:hh]])
        w = a.shape[1]
        x0 = int(w * rng.uniform(0.45, 0.55))
        return both[:, x0:x0 + w]
    if r < 0.85:  # a window too high/low: bottom of a drum only partly visible (a mostly-empty gap)
        fid = int(rng.integers(n_fonts()))
        img, _ = render_drum(rng, float(rng.integers(10)), fid)
        h = img.shape[0]
        cut = int(h * rng.uniform(0.7, 0.9))
        blank = np.repeat(img[:1], cut, axis=0) if rng.random() < 0.5 else np.repeat(img[-1:], cut, 0)
        out = np.vstack([img[cut:], blank]) if rng.random() < 0.5 else np.vstack([blank, img[:h - cut]])
        return out
    # clutter: random shapes, circles (dial pointers), noise texture
    h, w = int(rng.integers(30, 90)), int(rng.integers(18, 70))
    img = np.ones((h, w, 3), np.float32) * rng.uniform(0, 255, 3)
    for _ in range(int(rng.integers(1, 6))):
        c = rng.uniform(0, 255, 3).tolist()
        s = rng.random()
        if s < 0.4:
            cv2.circle(img, (int(rng.integers(w)), int(rng.integers(h))), int(rng.integers(3, 40)), c,
                       int(rng.integers(-1, 4)) or 1)
        elif s < 0.7:
            cv2.rectangle(img, (int(rng.integers(w)), int(rng.integers(h))),
                          (int(rng.integers(w)), int(rng.integers(h))), c, int(rng.integers(-1, 4)) or 1)
        else:
            pts = rng.integers(0, max(w, h), (3, 2)).astype(np.int32)
            cv2.fillPoly(img, [pts], c)
    if rng.random() < 0.5:
        img = cv2.GaussianBlur(img, (0, 0), rng.uniform(0.5, 3))
    return img


# ----------------------------------------------------------------------------------- augmentation
def augment(img: np.ndarray, rng: np.random.Generator, strength: float = 1.0) -> np.ndarray:
    """Photometric + geometric augmentation of a BGR float image; returns BGR uint8 at a random scale."""
    h, w = img.shape[:2]
    # crop offsets / padding: grow or shrink each side by up to ~12 %
    pads = (rng.uniform(-0.1, 0.14, 4) * np.array([h, h, w, w]) * strength).astype(int)
    top, bot, lef, rig = pads
    img = cv2.copyMakeBorder(img, max(top, 0), max(bot, 0), max(lef, 0), max(rig, 0),
                             cv2.BORDER_REPLICATE)
    H, W = img.shape[:2]
    img = img[max(-top, 0):H - max(-bot, 0), max(-lef, 0):W - max(-rig, 0)]
    # rotation +-5 deg
    if rng.random() < 0.7:
        H, W = img.shape[:2]
        M = cv2.getRotationMatrix2D((W / 2, H / 2), rng.uniform(-5, 5) * strength, 1.0)
        img = cv2.warpAffine(img, M, (W, H), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)
    # glare: a bright soft ellipse
    if rng.random() < 0.2 * strength:
        H, W = img.shape[:2]
        g = np.zeros((H, W), np.float32)
        cv2.ellipse(g, (int(rng.integers(W)), int(rng.integers(H))),
                    (int(rng.integers(2, W // 2 + 3)), int(rng.integers(2, H // 2 + 3))),
                    float(rng.uniform(0, 180)), 0, 360, 1.0, -1)
        g = cv2.GaussianBlur(g, (0, 0), max(W, H) * 0.1)
        img = img + g[..., None] * rng.uniform(60, 200)
    # brightness / contrast / colour
    img = img * (rng.uniform(0.6, 1.3) * rng.uniform(0.85, 1.15, 3))[None, None, :] + rng.uniform(-40, 40)
    c = rng.uniform(0.5, 1.2)
    img = (img - img.mean()) * c + img.mean()
    if rng.random() < 0.3:  # uneven illumination
        H, W = img.shape[:2]
        gx = np.linspace(rng.uniform(0.6, 1.0), rng.uniform(0.6, 1.0), W)[None, :]
        gy = np.linspace(rng.uniform(0.6, 1.0), rng.uniform(0.6, 1.0), H)[:, None]
        img = img * (gx * gy)[..., None]
    img = np.clip(img, 0, 255)
    if rng.random() < 0.3:  # gamma
        img = 255 * (img / 255) ** rng.uniform(0.6, 1.6)
    # scale: final size (tiny crops are common in meter photos)
    target_h = int(rng.integers(18, 90))
    ar = img.shape[1] / img.shape[0] * rng.uniform(0.85, 1.15)
    target_w = max(8, int(round(target_h * ar)))
    img = cv2.resize(img.astype(np.float32), (target_w, target_h),
                     interpolation=cv2.INTER_AREA if target_h < img.shape[0] else cv2.INTER_LINEAR)
    # blur
    if rng.random() < 0.5:
        img = cv2.GaussianBlur(img, (0, 0), rng.uniform(0.3, 1.4) * target_h / 40)
    if rng.random() < 0.1:  # motion-ish blur
        k = int(rng.integers(2, 5))
        kern = np.zeros((k, k), np.float32)
        kern[k // 2, :] = 1.0 / k
        img = cv2.filter2D(img, -1, kern if rng.random() < 0.5 else kern.T)
    # noise
    if rng.random() < 0.6:
        img = img + rng.normal(0, rng.uniform(2, 14), img.shape)
    img = np.clip(img, 0, 255).astype(np.uint8)
    # binarised crops (some pipelines threshold before classifying): ragged edges, saturated glare
    if rng.random() < 0.12:
        g = cv2.cvtColor(img, cv2.COLOR_BGR2GRAY)
        g = cv2.GaussianBlur(g, (0, 0), rng.uniform(0.5, 1.5) * target_h / 40)
        g = np.clip(g.astype(np.float32) + rng.normal(0, rng.uniform(0, 20), g.shape), 0, 255)
        _, b = cv2.threshold(g.astype(np.uint8), 0, 255, cv2.THRESH_BINARY + cv2.THRESH_OTSU)
        img = cv2.cvtColor(b, cv2.COLOR_GRAY2BGR)
        return img
    # JPEG compression
    if rng.random() < 0.5:
        ok, buf = cv2.imencode(".jpg", img, [cv2.IMWRITE_JPEG_QUALITY, int(rng.integers(15, 95))])
        if ok:
            img = cv2.imdecode(buf, cv2.IMREAD_COLOR)
    return img


def soft_target(value: float | None) -> np.ndarray:
    """Soft label over 11 classes: value k+f -> (1-f) on k, f on k+1 (mod 10); None -> not a digit."""
    t = np.zeros(N_CLASSES, np.float32)
    if value is None:
        t[NOT_DIGIT] = 1.0
        return t
    k = int(math.floor(value))
    f = float(value - k)
    t[k % 10] += 1 - f
    t[(k + 1) % 10] += f
    return t


def render_sample(rng: np.random.Generator, kind: str | None = None, value: float | None = None,
                  augmented: bool = True) -> tuple[np.ndarray, np.ndarray]:
    """One synthetic crop: kind in {'drum', 'rolling', 'lcd', 'none'} (random when None).
    Returns (BGR uint8 crop, soft target of length 11)."""
    if kind is None:
        r = rng.random()
        kind = "drum" if r < 0.3 else "rolling" if r < 0.5 else "lcd" if r < 0.84 else "none"
    if kind == "none":
        img, v = render_non_digit(rng), None
    elif kind == "lcd":
        d = int(rng.integers(10)) if value is None else int(value)
        img, v = render_lcd(rng, d), float(d)
    else:
        if value is None:
            k = int(rng.integers(10))
            if kind == "rolling":
                f = round(float(rng.uniform(0.05, 0.95)), 2)
            else:
                f = float(rng.choice([0.0, 0.0, 0.0, rng.uniform(0, 0.1), rng.uniform(0.9, 1.0)]))
            value = k + f
        img, v = render_drum(rng, float(value))
    if augmented:
        out = augment(img, rng)
    else:
        out = np.clip(img, 0, 255).astype(np.uint8)
    return out, soft_target(v)


def to_canvas(crop: np.ndarray) -> np.ndarray:
    """Gray uint8 crop on the cached training canvas (CANVAS_H x CANVAS_W)."""
    sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
    from recognizer.classifier import to_gray

    g = to_gray(crop)
    interp = cv2.INTER_AREA if g.shape[0] >= CANVAS_H else cv2.INTER_LINEAR
    return cv2.resize(g, (CANVAS_W, CANVAS_H), interpolation=interp)


def render_dataset(n: int, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    X = np.zeros((n, CANVAS_H, CANVAS_W), np.uint8)
    Y = np.zeros((n, N_CLASSES), np.float32)
    for i in range(n):
        img, t = render_sample(rng)
        X[i] = to_canvas(img)
        Y[i] = t
    return X, Y


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--n", type=int, default=40000)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--out", default="/work/cache/synth.npz")
    ap.add_argument("--preview", default=None, help="write a PNG montage of 128 samples here")
    a = ap.parse_args(argv)
    if a.preview:
        rng = np.random.default_rng(a.seed)
        tiles = []
        for _ in range(128):
            img, t = render_sample(rng)
            tile = cv2.resize(img, (48, 64))
            lab = "X" if t[10] > 0.5 else f"{np.argmax(t[:10])}" if t.max() > 0.99 else \
                f"{(np.argmax(t[:10]) + (1 - t[:10].max()) * (1 if t[(np.argmax(t[:10]) + 1) % 10] > 0 else -1)) % 10:.1f}"
            cv2.putText(tile, lab, (1, 10), cv2.FONT_HERSHEY_PLAIN, 0.8, (0, 255, 0), 1)
            tiles.append(tile)
        cv2.imwrite(a.preview, np.vstack([np.hstack(tiles[i * 16:(i + 1) * 16]) for i in range(8)]))
        return
    t0 = time.time()
    X, Y = render_dataset(a.n, a.seed)
    os.makedirs(os.path.dirname(os.path.abspath(a.out)), exist_ok=True)
    np.savez_compressed(a.out, X=X, Y=Y)
    print(f"rendered {a.n} crops in {time.time() - t0:.1f}s -> {a.out}")


if __name__ == "__main__":
    main()
