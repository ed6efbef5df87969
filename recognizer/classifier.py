"""Single-digit classifier: a small CNN exported to ONNX (``models/digits.onnx``), run with onnxruntime.

The model looks at one crop holding one digit (a drum digit, possibly rolling between two values, or a
seven-segment LCD digit; white-on-black or black-on-white alike) and returns 11 probabilities:
classes 0-9 are the position on the digit wheel (a drum half way between 4 and 5 shares its mass between
4 and 5), class 10 is "not a digit" (letters, unit text, blank drum, frame, background...).

Preprocessing contract (:func:`preprocess`; the training script imports this very function):

1. gray: a 2-D array is taken as gray; 3 channels are BGR (``cv2.COLOR_BGR2GRAY``), 4 channels BGRA.
   Non-uint8 input is clipped to 0..255 (floats in 0..1 are scaled by 255 first).
2. resize to ``INPUT_W`` x ``INPUT_H`` (24 x 32, width x height) with ``cv2.INTER_AREA``, stretching:
   no aspect-ratio preservation and no padding (crop the digit cell tightly, as a meter window's cell).
3. float32, per-crop standardisation: ``(x - mean) / max(std, 8.0)`` in 0..255 units, then clipped to
   [-4, 4]. Polarity is left as is: the model was trained on both polarities.
4. tensor layout NCHW ``(N, 1, 32, 24)``.
"""
from __future__ import annotations

import json
import math
import threading
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np

from .onnx import MODELS_DIR, cpu_session, sha256_file  # noqa: F401  (sha256_file: tests and the training script)

INPUT_H = 32
INPUT_W = 24
STD_FLOOR = 8.0
CLIP = 4.0
N_WHEEL = 10
NOT_DIGIT = 10  # index of the "not a digit" class
ROLLING_THRESHOLD = 0.25

DEFAULT_MODEL = MODELS_DIR / "digits.onnx"
DEFAULT_CARD = MODELS_DIR / "digits.json"


def to_gray(crop: np.ndarray) -> np.ndarray:
    """Gray uint8 view of a BGR/BGRA/gray crop (step 1 of the contract)."""
    a = np.asarray(crop)
    if a.dtype != np.uint8:
        a = a.astype(np.float32)
        if a.size and float(np.nanmax(a)) <= 1.0:
            a = a * 255.0
        a = np.clip(np.nan_to_num(a), 0, 255).astype(np.uint8)
    if a.ndim == 3:
        if a.shape[2] == 1:
            a = a[:, :, 0]
        elif a.shape[2] == 3:
            a = cv2.cvtColor(a, cv2.COLOR_BGR2GRAY)
        elif a.shape[2] == 4:
            a = cv2.cvtColor(a, cv2.COLOR_BGRA2GRAY)
        else:
            raise ValueError(f"unsupported channel count {a.shape[2]}")
    elif a.ndim != 2:
        raise ValueError(f"crop must be 2-D or 3-D, got shape {a.shape}")
    if a.shape[0] < 1 or a.shape[1] < 1:
        raise ValueError("empty crop")
    return np.ascontiguousarray(a)


def preprocess(crop: np.ndarray) -> np.ndarray:
    """One crop (any size, BGR/BGRA/gray) -> float32 array (INPUT_H, INPUT_W), the model's input."""
    g = to_gray(crop)
    g = cv2.resize(g, (INPUT_W, INPUT_H), interpolation=cv2.INTER_AREA).astype(np.float32)
    m = float(g.mean())
    s = max(float(g.std()), STD_FLOOR)
    return np.clip((g - m) / s, -CLIP, CLIP).astype(np.float32)


def preprocess_batch(crops) -> np.ndarray:
    """List of crops -> float32 (N, 1, INPUT_H, INPUT_W)."""
    if len(crops) == 0:
        return np.zeros((0, 1, INPUT_H, INPUT_W), np.float32)
    return np.stack([preprocess(c) for c in crops])[:, None, :, :]


def wheel_position(p10: np.ndarray) -> float:
    """Expected position on the wheel in [0, 10): circular mean of the 10 wheel probabilities."""
    ang = 2 * math.pi * np.arange(N_WHEEL) / N_WHEEL
    c = float(np.dot(p10, np.cos(ang)))
    s = float(np.dot(p10, np.sin(ang)))
    if abs(c) < 1e-12 and abs(s) < 1e-12:
        return float(np.argmax(p10))
    pos = (math.atan2(s, c) / (2 * math.pi) * N_WHEEL) % N_WHEEL
    return 0.0 if pos >= N_WHEEL else float(pos)


@dataclass(frozen=True)
class DigitGuess:
    value: int  # most likely settled digit 0-9 (argmax over the wheel), or -1 for "not a digit"
    confidence: float  # probability of that digit (or of "not a digit" when value == -1)
    position: float  # expected position on the wheel in [0, 10), e.g. 4.3
    rolling: bool  # the mass is split between two neighbours on the wheel
    neighbour: int | None  # the other candidate when rolling
    not_digit: float  # probability of the non-digit class
    probs: np.ndarray  # the 11 probabilities (0-9 wheel, 10 = not a digit); they sum to 1


def guess_from_probs(p: np.ndarray, rolling_threshold: float = ROLLING_THRESHOLD) -> DigitGuess:
    p = np.asarray(p, dtype=np.float64)
    p = p / max(p.sum(), 1e-12)
    wheel = p[:N_WHEEL]
    nd = float(p[NOT_DIGIT]) if p.shape[0] > N_WHEEL else 0.0
    d = int(np.argmax(wheel))
    lo, hi = (d - 1) % N_WHEEL, (d + 1) % N_WHEEL
    nb = hi if wheel[hi] >= wheel[lo] else lo
    wsum = max(float(wheel.sum()), 1e-12)
    position = wheel_position(wheel / wsum)
    if nd > float(wheel[d]):
        return DigitGuess(-1, nd, position, False, None, nd, p.astype(np.float32))
    rolling = bool(wheel[nb] > rolling_threshold)
    return DigitGuess(d, float(wheel[d]), position, rolling, nb if rolling else None, nd,
                      p.astype(np.float32))


def _softmax(z: np.ndarray) -> np.ndarray:
    z = z - z.max(axis=1, keepdims=True)
    e = np.exp(z)
    return e / e.sum(axis=1, keepdims=True)


class DigitClassifier:
    """Loads the ONNX model lazily (on the first call) and classifies batches of digit crops."""

    def __init__(self, model_path: str | Path | None = None, threads: int = 1):
        self.model_path = Path(model_path) if model_path is not None else DEFAULT_MODEL
        self.threads = int(threads)
        self._session = None
        self._input = None
        self._lock = threading.Lock()

    def _load(self):
        if self._session is None:
            with self._lock:
                if self._session is None:
                    sess = cpu_session(self.model_path, self.threads)
                    self._input = sess.get_inputs()[0].name
                    self._session = sess
        return self._session

    def predict_proba(self, crops: list[np.ndarray]) -> np.ndarray:
        """(N, 11) probabilities for N crops, one batched model call."""
        x = preprocess_batch(list(crops))
        if x.shape[0] == 0:
            return np.zeros((0, N_WHEEL + 1), np.float32)
        sess = self._load()
        logits = sess.run(None, {self._input: x})[0]
        return _softmax(logits.astype(np.float64)).astype(np.float32)

    def classify(self, crops: list[np.ndarray]) -> list[DigitGuess]:
        """BGR or gray crops of any size -> one :class:`DigitGuess` per crop (one batched model call)."""
        return [guess_from_probs(p) for p in self.predict_proba(crops)]


_default: DigitClassifier | None = None
_default_lock = threading.Lock()


def default_classifier() -> DigitClassifier:
    """The process-wide classifier on ``models/digits.onnx`` (created once, model loaded lazily)."""
    global _default
    if _default is None:
        with _default_lock:
            if _default is None:
                _default = DigitClassifier()
    return _default


def model_card(path: Path = DEFAULT_CARD) -> dict:
    return json.loads(Path(path).read_text())
