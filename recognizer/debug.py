"""The debug overlay: every stage's decision drawn on the photo, and the window crop."""
from __future__ import annotations

import cv2
import numpy as np

from pipeline.deskew import deskew, to_original
from pipeline.types import DecodedImage


# The overlay is a photo with lines on it: JPEG encodes it about ten times faster than PNG (1-2 ms against
# 7-22 ms a photo here, a tenth of the service's CPU per upload) and ten times smaller; the crop stays PNG,
# small and lossless, since reviewers read digits from it.
DEBUG_JPEG_QUALITY = 85


def _png(img: np.ndarray) -> bytes:
    ok, buf = cv2.imencode(".png", img)
    return buf.tobytes() if ok else b""


def _jpeg(img: np.ndarray) -> bytes:
    ok, buf = cv2.imencode(".jpg", img, [cv2.IMWRITE_JPEG_QUALITY, DEBUG_JPEG_QUALITY])
    return buf.tobytes() if ok else b""


def image_ext(data: bytes) -> str:
    """The file extension of encoded image bytes, from their signature."""
    if data[:8] == b"\x89PNG\r\n\x1a\n":
        return "png"
    if data[:3] == b"\xff\xd8\xff":
        return "jpg"
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "webp"
    return "bin"


def write_image(path, data: bytes) -> None:
    """Write encoded image bytes to ``path``, re-encoded when its suffix asks for another format."""
    from pathlib import Path

    path = Path(path)
    want = {".jpeg": "jpg", ".jpg": "jpg", ".png": "png", ".webp": "webp"}.get(path.suffix.lower())
    if want is None or want == image_ext(data):
        path.write_bytes(data)
        return
    img = cv2.imdecode(np.frombuffer(data, np.uint8), cv2.IMREAD_COLOR)
    ok, buf = cv2.imencode("." + want, img)
    if not ok:
        raise ValueError(f"could not encode {path.suffix} image")
    path.write_bytes(buf.tobytes())


def crop_png(decoded: DecodedImage, cand) -> bytes:
    """The chosen window, deskewed, a little wider than the digits."""
    from pipeline.deskew import expand_quad
    from pipeline.types import Window

    w = Window(expand_quad(cand.window.quad, 0.15, 0.15, 0.1, 0.1), cand.window.kind)
    return _png(deskew(decoded, w, 96).image)


def debug_jpeg(decoded: DecodedImage, proposals, chosen, result) -> bytes:
    img = decoded.image.copy()
    s = decoded.scale
    lw = max(1, round(max(img.shape[:2]) / 600))
    for w in proposals:  # every proposal, thin grey
        cv2.polylines(img, [(w.quad * s).astype(np.int32)], True, (160, 160, 160), lw)
    for k, c in enumerate(chosen):
        cv2.polylines(img, [(c.window.quad * s).astype(np.int32)], True, (0, 200, 0), 2 * lw)
        digits = result.registers[k].digits if k < len(result.registers) else c.digits
        for b, d in zip(c.boxes, digits):
            pts = to_original(c.deskewed, np.array([[b.x0, b.y0], [b.x1, b.y0], [b.x1, b.y1], [b.x0, b.y1]], np.float32)) * s
            colour = (0, 0, 255) if d.fractional else (255, 128, 0)
            cv2.polylines(img, [pts.astype(np.int32)], True, colour, lw)
            label = f"{d.value}{'~' if d.rolling else ''}"
            org = tuple(int(v) for v in pts[0] - [0, 4 * lw])
            cv2.putText(img, label, org, cv2.FONT_HERSHEY_SIMPLEX, 0.5 * lw, colour, lw)
            cv2.putText(img, f"{d.confidence:.2f}", tuple(int(v) for v in pts[3] + [0, 12 * lw]),
                        cv2.FONT_HERSHEY_SIMPLEX, 0.35 * lw, colour, max(1, lw // 2))
    banner = f"{result.status}: {result.reading or '-'}  conf {result.confidence:.2f}"
    cv2.rectangle(img, (0, 0), (img.shape[1], 22 * lw), (0, 0, 0), -1)
    cv2.putText(img, banner, (4, 16 * lw), cv2.FONT_HERSHEY_SIMPLEX, 0.55 * lw, (255, 255, 255), lw)
    return _jpeg(img)
