"""Tesseract as a second engine, on a deskewed, binarised digit strip (never on the whole photo:
there it finds scattered text and no seven-segment digits)."""
from __future__ import annotations

import shutil
from dataclasses import dataclass

import cv2
import numpy as np


@dataclass(frozen=True)
class TesseractRead:
    text: str  # digits only, "" when nothing was read
    confidence: float  # 0..1 (Tesseract's word confidence)


def available() -> bool:
    return shutil.which("tesseract") is not None


def binarise(strip_bgr: np.ndarray, dark_digits: bool) -> np.ndarray:
    gray = cv2.cvtColor(strip_bgr, cv2.COLOR_BGR2GRAY)
    gray = cv2.resize(gray, None, fx=1.5, fy=1.5, interpolation=cv2.INTER_CUBIC)
    if not dark_digits:
        gray = 255 - gray
    _, bw = cv2.threshold(gray, 0, 255, cv2.THRESH_BINARY + cv2.THRESH_OTSU)
    return cv2.copyMakeBorder(bw, 12, 12, 12, 12, cv2.BORDER_CONSTANT, value=255)


def read_strip(strip_bgr: np.ndarray, dark_digits: bool = True, timeout: float = 5.0) -> TesseractRead:
    """One line of digits: page segmentation mode 7, digits whitelist; empty means no read."""
    import pytesseract

    img = binarise(strip_bgr, dark_digits)
    cfg = "--psm 7 --oem 1 -c tessedit_char_whitelist=0123456789"
    try:
        data = pytesseract.image_to_data(img, config=cfg, output_type=pytesseract.Output.DICT, timeout=timeout)
    except (RuntimeError, pytesseract.TesseractError):
        return TesseractRead("", 0.0)
    words = [(t, float(c)) for t, c in zip(data["text"], data["conf"]) if t.strip() and float(c) >= 0]
    text = "".join(t for t, _ in words)
    text = "".join(ch for ch in text if ch.isdigit())
    conf = min((c for _, c in words), default=0.0) / 100.0
    return TesseractRead(text, conf if text else 0.0)


class TesseractLineReader:
    """Tesseract behind the line reader's interface: each strip read in both polarities, the surer kept.

    Tesseract gives no character positions here, so the digits are spread evenly over the strip.
    """

    def read(self, strips: list[np.ndarray]):
        from .reader import CharRead, LineRead

        out = []
        for strip in strips:
            best = max((read_strip(strip, dark) for dark in (True, False)), key=lambda r: (r.confidence, len(r.text)))
            w = strip.shape[1]
            n = max(1, len(best.text))
            chars = tuple(CharRead(ch, best.confidence ** (1 / n), i * w / n, (i + 1) * w / n) for i, ch in enumerate(best.text))
            out.append(LineRead(best.text, chars, best.confidence))
        return out
