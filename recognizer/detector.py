"""Window detector: a small fully-convolutional network that marks where a meter's digit window is.

The classical proposals (pipeline/locate.py) find rows of digit-shaped blobs; they miss counters whose
drums sit in cells the threshold joins to the digits, or small counters on a busy face. The detector
was trained on synthetic meter photos only (training/render_windows.py, training/train_detector.py),
where the window is known exactly among serial numbers and other printed digits. Its quads join the
proposals with a quota of their own; the line reader still decides which proposal is the reading.

Input contract: BGR photo reduced to ``INPUT_LONG`` pixels on its long side (INTER_AREA), padded to a
square with its edge pixels, float32 ``(x - mean) / max(std, 8)`` per image, NCHW. Output: one logit per
``OUTPUT_STRIDE`` x ``OUTPUT_STRIDE`` cell, ``(N, 1, INPUT_LONG / OUTPUT_STRIDE, INPUT_LONG / OUTPUT_STRIDE)``.
"""
from __future__ import annotations

import threading
from pathlib import Path

import cv2
import numpy as np

from .onnx import MODELS_DIR, LazySession

INPUT_LONG = 256
OUTPUT_STRIDE = 4
STD_FLOOR = 8.0
MODEL = MODELS_DIR / "detector.onnx"


def to_input(image: np.ndarray) -> tuple[np.ndarray, float]:
    """The square uint8 input of a BGR photo, and the factor from photo pixels to input pixels."""
    h, w = image.shape[:2]
    f = INPUT_LONG / max(h, w)
    small = cv2.resize(image, (max(1, round(w * f)), max(1, round(h * f))), interpolation=cv2.INTER_AREA)
    sq = cv2.copyMakeBorder(small, 0, INPUT_LONG - small.shape[0], 0, INPUT_LONG - small.shape[1], cv2.BORDER_REPLICATE)
    return sq, f


def preprocess(batch: np.ndarray) -> np.ndarray:
    """uint8 (N, H, W, 3) -> float32 (N, 3, H, W), each image to zero mean and unit spread."""
    x = batch.astype(np.float32).transpose(0, 3, 1, 2)
    m = x.mean(axis=(1, 2, 3), keepdims=True)
    s = np.maximum(x.std(axis=(1, 2, 3), keepdims=True), STD_FLOOR)
    return (x - m) / s


class WindowDetector:
    """Loads ``models/detector.onnx`` on first use."""

    def __init__(self, model_path: str | Path = MODEL, threads: int = 1):
        self.model_path = Path(model_path)
        self._session = LazySession(self.model_path, threads)

    def available(self) -> bool:
        return self.model_path.is_file()

    def heatmap(self, image: np.ndarray) -> tuple[np.ndarray, float]:
        """Window probability per output cell, and the factor from photo pixels to output cells."""
        sess = self._session.get()
        sq, f = to_input(image)
        logits = sess.run(None, {sess.get_inputs()[0].name: preprocess(sq[None])})[0][0, 0]
        return 1.0 / (1.0 + np.exp(-logits)), f / OUTPUT_STRIDE


_default: WindowDetector | None = None
_default_lock = threading.Lock()


def default_detector() -> WindowDetector:
    """The process-wide detector on ``models/detector.onnx`` (created once, loaded lazily)."""
    global _default
    if _default is None:
        with _default_lock:
            if _default is None:
                _default = WindowDetector()
    return _default
