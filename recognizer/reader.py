"""Line reader: a small CRNN (convolutions, a bidirectional LSTM, CTC) that reads a whole digit window.

Reading the window as one line, instead of cutting it into digits first, spares the pipeline the
hardest part of segmentation: seven-segment digits are made of separate strokes, drums touch their
frame, blank LCD positions show faint "ghost" segments. The model emits digits and ``.`` (a decimal
point, or the start of the red fractional drums); CTC gives each emitted character a confidence and a
position along the strip, so the rest of the pipeline still sees digits with boxes.

Input contract (:func:`to_canvas`, :func:`preprocess`; the training scripts import these):

1. BGR (or gray) strip of any size; resized to height ``INPUT_H`` keeping its aspect ratio, then
   placed left-aligned on an ``INPUT_W`` wide canvas padded with the strip's mean colour (a strip
   wider than that is squeezed to ``INPUT_W``);
2. float32 ``(x - mean) / max(std, 8)`` over the whole canvas, clipped to [-4, 4]; layout NCHW
   ``(N, 3, INPUT_H, INPUT_W)``.

Output: logits ``(N, T, len(ALPHABET) + 1)``, class 0 the CTC blank, class ``i + 1`` ``ALPHABET[i]``;
frame ``t`` covers canvas columns around ``(t + 0.5) * INPUT_W / T``.
"""
from __future__ import annotations

import threading
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np

from .onnx import MODELS_DIR, LazySession, sha256_file  # noqa: F401  (sha256_file: the training script's import)

ALPHABET = "0123456789."
INPUT_H = 32
INPUT_W = 256
STD_FLOOR = 8.0
CLIP = 4.0
WIDTH_STEP = 32  # canvases are read in widths of this many columns (8 output frames)
WIDTH_MARGIN = 64  # columns of padding read after the strip's own: with 32 a toloka reading changed, with 64 none

DEFAULT_MODEL = MODELS_DIR / "reader.onnx"


def _fit(strip: np.ndarray) -> tuple[np.ndarray, float]:
    """The strip at INPUT_H rows, at most INPUT_W columns; and its horizontal scale."""
    a = np.asarray(strip)
    if a.ndim == 2:
        a = cv2.cvtColor(a, cv2.COLOR_GRAY2BGR)
    elif a.shape[2] == 4:
        a = cv2.cvtColor(a, cv2.COLOR_BGRA2BGR)
    h, w = a.shape[:2]
    if h < 1 or w < 1:
        raise ValueError("empty strip")
    nw = max(1, min(INPUT_W, int(round(w * INPUT_H / h))))
    interp = cv2.INTER_AREA if h > INPUT_H else cv2.INTER_LINEAR
    return cv2.resize(a, (nw, INPUT_H), interpolation=interp), nw / w


def to_canvas(strip: np.ndarray) -> np.ndarray:
    """uint8 (3, INPUT_H, INPUT_W) canvas of a strip (step 1 of the contract)."""
    return _canvas(strip)[0]


def _canvas(strip: np.ndarray) -> tuple[np.ndarray, float, int]:
    fitted, sx = _fit(strip)
    canvas = np.empty((INPUT_H, INPUT_W, 3), np.uint8)
    # cv2.mean: the same float64 sum of the pixels over their count as numpy's mean (exact for 8-bit
    # sums), without numpy's overhead on a small array (a tenth of a millisecond a strip)
    canvas[:] = np.array(cv2.mean(fitted)[:3]).astype(np.uint8)
    canvas[:, : fitted.shape[1]] = fitted
    return canvas.transpose(2, 0, 1).copy(), sx, fitted.shape[1]


def preprocess(canvas: np.ndarray) -> np.ndarray:
    """uint8 (..., 3, H, W) canvases -> normalised float32 (step 2 of the contract)."""
    x = canvas.astype(np.float32)
    axes = tuple(range(x.ndim - 3, x.ndim))
    m = x.mean(axis=axes, keepdims=True)
    s = np.maximum(x.std(axis=axes, keepdims=True), STD_FLOOR)
    x -= m
    x /= s
    return np.clip(x, -CLIP, CLIP, out=x)  # in place: float32 already, no copy of the whole batch


@dataclass(frozen=True)
class CharRead:
    char: str  # a digit or "."
    confidence: float  # 0..1
    x0: float  # span along the strip, in the strip's own pixels
    x1: float
    alternative: str | None = None  # the runner-up character at its peak frame
    alternative_p: float = 0.0
    point_after: float = 0.0  # the highest probability of a "." between this character and the next


@dataclass(frozen=True)
class LineRead:
    text: str
    chars: tuple[CharRead, ...]
    confidence: float  # product of the characters' confidences, lowered by doubtful gaps

    @property
    def digits(self) -> tuple[CharRead, ...]:
        return tuple(c for c in self.chars if c.char != ".")


def _softmax(z: np.ndarray) -> np.ndarray:
    z = z - z.max(axis=-1, keepdims=True)
    e = np.exp(z)
    return e / e.sum(axis=-1, keepdims=True)


def decode_ctc(probs: np.ndarray, sx: float, width: int = INPUT_W) -> LineRead:
    """Greedy CTC decoding of one (T, C) probability matrix of a ``width``-column canvas; ``sx`` maps
    strip pixels to canvas pixels."""
    T = probs.shape[0]
    step = width / T
    best = probs.argmax(axis=1)
    dot = ALPHABET.index(".") + 1
    chars: list[CharRead] = []
    peaks: list[int] = []
    gap_penalty = 1.0
    t = 0
    while t < T:
        k = int(best[t])
        if k == 0:
            # a blank frame where some character nearly won may hide a digit the reading lacks
            p_char = 1.0 - float(probs[t, 0])
            if p_char > 0.3:
                gap_penalty *= 1.0 - p_char + 0.3
            t += 1
            continue
        u = t
        while u + 1 < T and best[u + 1] == k:
            u += 1
        run = probs[t : u + 1]
        peak = t + int(run[:, k].argmax())
        conf = float(run[:, k].max())
        row = probs[peak].copy()
        row[0] = 0.0
        row[k] = 0.0
        alt = int(row.argmax())
        chars.append(CharRead(ALPHABET[k - 1], conf, t * step / sx, (u + 1) * step / sx,
                              ALPHABET[alt - 1] if alt > 0 else None, float(row[alt])))
        peaks.append(peak)
        t = u + 1
    # a point the decoding did not emit still shows as probability between two characters
    for i in range(len(chars) - 1):
        p_dot = float(probs[peaks[i] : peaks[i + 1] + 1, dot].max())
        c = chars[i]
        chars[i] = CharRead(c.char, c.confidence, c.x0, c.x1, c.alternative, c.alternative_p, p_dot)
    text = "".join(c.char for c in chars)
    conf = float(np.prod([c.confidence for c in chars])) * gap_penalty if chars else 0.0
    return LineRead(text, tuple(chars), conf)


class LineReader:
    """Loads ``models/reader.onnx`` on first use; reads batches of strips in one model call."""

    def __init__(self, model_path: str | Path | None = None, threads: int = 1):
        self.model_path = Path(model_path) if model_path is not None else DEFAULT_MODEL
        self.threads = int(threads)
        self._session = LazySession(self.model_path, self.threads)

    def _load(self):
        return self._session.get()

    def probabilities(self, strips: list[np.ndarray]) -> tuple[list[np.ndarray], list[float], list[int]]:
        """Each strip's (T, C) probabilities, its horizontal scale and the canvas width it was read at.

        A strip is read on the first ``width`` columns of its canvas only: its fitted width and a margin
        of padding, in steps of ``WIDTH_STEP`` (the network is convolutions and an LSTM along the width,
        so a narrower canvas costs proportionally less; most strips fill half the canvas). The canvas is
        normalised over all ``INPUT_W`` columns first, so the columns read are those of the full canvas.
        """
        if not strips:
            return [], [], []
        canv = [_canvas(s) for s in strips]
        x = preprocess(np.stack([c for c, _, _ in canv]))
        widths = [canvas_width(nw) for _, _, nw in canv]
        sess = self._load()
        name = sess.get_inputs()[0].name
        probs: list[np.ndarray | None] = [None] * len(strips)
        for w in sorted(set(widths)):
            idx = [i for i, wi in enumerate(widths) if wi == w]
            logits = sess.run(None, {name: np.ascontiguousarray(x[idx, :, :, :w])})[0]
            for i, p in zip(idx, _softmax(logits.astype(np.float64))):
                probs[i] = p
        return probs, [sx for _, sx, _ in canv], widths

    def read(self, strips: list[np.ndarray]) -> list[LineRead]:
        probs, scales, widths = self.probabilities(strips)
        return [decode_ctc(p, sx, w) for p, sx, w in zip(probs, scales, widths)]


def canvas_width(fitted: int) -> int:
    """Canvas columns a strip of ``fitted`` columns is read on: its own, ``WIDTH_MARGIN`` of padding (the
    backward LSTM starts in the padding and needs some of it to settle), rounded up to ``WIDTH_STEP``."""
    return min(INPUT_W, -(-(fitted + WIDTH_MARGIN) // WIDTH_STEP) * WIDTH_STEP)


_default: LineReader | None = None
_default_lock = threading.Lock()


def default_reader() -> LineReader:
    """The process-wide reader on ``models/reader.onnx`` (created once, loaded lazily)."""
    global _default
    if _default is None:
        with _default_lock:
            if _default is None:
                _default = LineReader()
    return _default
